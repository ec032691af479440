// The words the offline planner recognises. It is no LLM: what it knows of a task is which of these
// words the task and its constraints contain, so every rule of the planner is written in terms of
// them, and a word added here changes every rule that reads it.

/** The parts of a system a task can touch; each gets its own subtasks and considerations. */
export type Area = 'ui' | 'style' | 'server' | 'persistence' | 'auth' | 'ops' | 'security' | 'data'

export const areaWords: Record<Area, RegExp> = {
  ui: /\b(ui|ux|page|pages|component|components|button|toggle|screen|form|forms|modal|dialog|view|frontend|front-end|react|vue|angular|svelte|widget|dashboard|navbar|menu|sidebar|layout|chat|settings page|client-side)\b/,
  style: /\b(style|styles|styling|theme|themes|theming|dark mode|light mode|css|colou?rs?|responsive|responsiveness|animation|transitions?|visual)\b/,
  server: /\b(api|apis|endpoint|endpoints|server|backend|back-end|service|services|webhook|rest|graphql|rpc|queue|worker|cache|rate limit(ing)?|microservice)\b/,
  persistence: /\b(persist|persistence|persistent|database|db|storage|store|save|saved|saving|preferences?|settings|sql|postgres|migration|schema|remember)\b/,
  auth: /\b(auth|authentication|authorization|oauth2?|login|log in|sign[- ]?in|sso|token|tokens|password|jwt|session)\b/,
  ops: /\b(deploy|deployment|ci|cd|docker|kubernetes|k8s|monitoring|metrics|alerting|observability|infrastructure|logging)\b/,
  security: /\b(security|secure|gdpr|compliance|privacy|encryption|vulnerability|xss|csrf)\b/,
  data: /\b(analytics|report|reports|reporting|etl|pipeline|import|export|csv)\b/,
}

/** Opens a constraint that asks for work of its own ("Add rate limiting"), not a guideline. */
export const actionVerb =
  /^(add|include|implement|support|create|write|provide|build|integrate|set up|setup|enable|expose|introduce|generate|document|publish)\b/i
export const testWords = /\b(tests?|testing|e2e|end-to-end|regression|coverage|unit tests?|qa)\b/
export const docWords = /\b(docs?|documentation|document|readme|guide|tutorial|manual|examples?|troubleshooting|openapi|changelog)\b/
export const bugWords = /\b(fix|fixes|bug|bugs|leak|leaks|crash|crashes|broken|defect|regression|error|errors|failing|flaky)\b/
/** The request's verb ("Please add …"), cut off to leave what the task is about. */
export const leadingVerb =
  /^(please\s+)?(add|implement|create|build|fix|write|design|develop|make|set up|setup|introduce|support|refactor|improve|update|migrate|investigate|document|enable|integrate|optimi[sz]e|include|provide|generate|publish)\s+/i

/** The areas whose words occur in `text` (expected in lower case). */
export function detectAreas(text: string): Set<Area> {
  const found = new Set<Area>()
  for (const [area, re] of Object.entries(areaWords) as [Area, RegExp][]) if (re.test(text)) found.add(area)
  return found
}
