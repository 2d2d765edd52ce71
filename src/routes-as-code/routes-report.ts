import { FieldProblem } from '../common/validation-problems';
import { RoutesReport } from './routes-applier';
import { PlanAction, PlanStep } from './routes-plan';

const SYMBOLS: Record<PlanAction, string> = {
  create: '+',
  update: '~',
  unchanged: '=',
  delete: '-',
  kept: '!',
};

/** The plan, one line per object, then a count: what `routes:apply` prints, secrets never shown. */
export function planLines(report: RoutesReport): string[] {
  const steps = [
    ...report.plan.sources.map((step) => ({ object: 'source', step })),
    ...report.plan.subscriptions.map((step) => ({ object: 'subscription', step })),
  ];
  const counts = (action: PlanAction) => steps.filter(({ step }) => step.action === action).length;
  return [
    ...steps.map(({ object, step }) => `  ${SYMBOLS[step.action]} ${object} ${describe(step)}`),
    `Plan: ${counts('create')} to create, ${counts('update')} to update, ` +
      `${counts('unchanged')} unchanged, ${counts('delete')} to delete` +
      (counts('kept') > 0 ? `, ${counts('kept')} no longer declared (kept)` : '') +
      '.',
  ];
}

function describe(step: PlanStep<unknown>): string {
  const id = step.id ? ` (${step.id})` : '';
  const changes = step.changes.length > 0 ? `: ${step.changes.join(', ')}` : '';
  const note = step.note ? ` [${step.note}]` : '';
  return `${step.key}${id}${changes}${note}`;
}

/** What the router made while applying and shows only now: URLs with their tokens, secrets. */
export function revealedLines(report: RoutesReport): string[] {
  if (report.revealed.length === 0) return [];
  return [
    'Shown once, store them now:',
    ...report.revealed.map(
      ({ object, key, field, value }) => `  ${object} ${key} ${field}: ${value}`,
    ),
  ];
}

export function problemLines(path: string, problems: FieldProblem[]): string[] {
  return [
    `${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was changed:`,
    ...problems.map(({ field, problems: what }) => `  ${field}: ${what.join('; ')}`),
  ];
}

/** Whether applying the plan creates, updates or deletes anything. */
export function hasChanges(report: RoutesReport): boolean {
  return [...report.plan.sources, ...report.plan.subscriptions].some(
    ({ action }) => action === 'create' || action === 'update' || action === 'delete',
  );
}
