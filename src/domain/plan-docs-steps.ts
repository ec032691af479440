// Documentation in a plan. A documentation task is outlined, written (with each requested extra
// in parallel), and reviewed against the code. Any other task that asks for docs gets them after
// the work they document, since docs describe the finished behaviour.
import type { TaskReading } from './plan-reading.js'
import type { Step, Steps } from './plan-steps.js'
import { requested } from './plan-steps.js'
import { docWords } from './plan-vocabulary.js'
import { docTopic, stripVerb } from './plan-names.js'
import { sentence, slug } from './plan-text.js'

/** Steps of a task whose kind is `docs`: outline, then the body and each requested extra, then a review. */
export function documentationSteps(r: TaskReading): Steps {
  const { subject, pick } = r
  const outline: Step = {
    key: 'outline',
    description: `Survey ${docTopic(subject)} and outline the documentation structure`,
    specialist: pick('docs'),
    after: [],
    base: 15,
    files: ['docs/README.md'],
    rationale: 'Agreeing on structure and audience first keeps the sections consistent',
  }
  const body: Step = {
    key: 'write',
    description: `Write ${subject}`,
    specialist: pick('docs'),
    after: [outline.key],
    base: 35,
    files: [`docs/${slug(subject)}.md`],
    patterns: r.patterns,
    rationale: 'The core of the requested documentation',
  }
  // In a docs task every work item is docs work; an API specification is the backend's to write.
  const extras = [...r.constraints.docWork, ...r.constraints.otherWork].map((c, i): Step => {
    const api = /\b(openapi|swagger|api spec|specification)\b/i.test(c)
    return {
      key: `extra-${i}`,
      description: sentence(c),
      specialist: api ? pick('backend', 'docs') : pick('docs'),
      after: [outline.key],
      base: api ? 30 : 20,
      files: api ? ['docs/openapi.yaml'] : [`docs/${slug(stripVerb(c))}.md`],
      rationale: requested(c),
    }
  })
  const implementation = [body.key, ...extras.map((d) => d.key)]
  const review: Step = {
    key: 'review',
    description: `Review ${subject} against the code and fix inaccuracies`,
    specialist: pick('general'),
    after: [...implementation],
    base: 15,
    rationale: 'Documentation that disagrees with the code is worse than none',
  }
  return { steps: [outline, body, ...extras, review], implementation }
}

/**
 * Docs for a task of another kind that asks for them, in its wording or in work items: one step per
 * docs work item (or one documenting the subject), after all of `done`'s implementation (after
 * every step, when it has none).
 */
export function documentingSteps(r: TaskReading, done: Steps): Step[] {
  const { docWork } = r.constraints
  if (r.kind === 'docs' || (docWork.length === 0 && !docWords.test(r.lowerTask))) return []
  const documented = done.implementation.length > 0 ? done.implementation : done.steps.map((d) => d.key)
  const list = docWork.length > 0 ? docWork : [`Document ${r.subject}`]
  return list.map((c, i) => ({
    key: `docs-${i}`,
    description: sentence(c),
    specialist: r.pick('docs'),
    after: [...documented],
    base: 15,
    files: ['docs/'],
    rationale: 'Docs describe the finished behaviour, so they follow it',
  }))
}
