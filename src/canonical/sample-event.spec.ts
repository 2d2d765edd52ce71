import { CANONICAL_EVENT_TYPES } from './canonical-event';
import { canonicalEventProblems } from './canonical-event.schema';
import { buildSampleEvent } from './sample-event';

describe('buildSampleEvent', () => {
  it.each(CANONICAL_EVENT_TYPES)('is a valid canonical %s event', (type) => {
    const { canonical, rawBody } = buildSampleEvent('evt_test_1', type);
    expect(canonicalEventProblems(canonical)).toEqual([]);
    expect(canonical).toMatchObject({ id: 'evt_test_1', type });
    expect(JSON.parse(rawBody)).toMatchObject({ id: 'evt_test_1', type });
  });
});
