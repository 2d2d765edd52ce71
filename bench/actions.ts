/**
 * Benchmark 5, the action API: M conversations on a jivo-bot source, K messages made one after
 * the other on each (all conversations at once), sent by the worker to a fake Jivo Bot API.
 * Measures the API's answer (202 once stored and queued), each action's time from that answer
 * to its arrival, actions/s from the first request to the last arrival, and checks that every
 * conversation's messages arrived in the order they were made.
 */
import { FakeJivoBotApi } from '../test/support/fake-platforms';
import { freePort } from '../test/support/processes';
import { waitFor } from '../test/support/wait-for';
import { BenchContext } from './lib/context';
import { readCpuMs } from './lib/cpu';
import { printTable, verdict, writeResults } from './lib/report';
import { startRouterApi, startRouterWorker } from './lib/router';
import { round, summarize } from './lib/stats';

export async function runActionsBenchmark(ctx: BenchContext): Promise<void> {
  const { conversations, perConversation } = ctx.config.actions;
  const jivo = await new FakeJivoBotApi().start();
  const env = ctx.routerEnvironment('actions');
  const api = await startRouterApi(env, await freePort(), { label: 'router api (actions)' });
  const worker = await startRouterWorker(env, { label: 'router worker (actions)' });
  try {
    const source = await api.admin.expectOk<{ id: string; url: string }>('POST', '/api/sources', {
      kind: 'jivo-bot',
      name: 'bench actions',
      botApiEndpoint: jivo.endpoint,
    });
    const webhook = `${api.admin.baseUrl}${new URL(source.url).pathname}`;
    const keys: string[] = [];
    for (let n = 0; n < conversations; n++) {
      const chatId = `bench-${n}`;
      const response = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: `bench-evt-${n}-${Date.now()}`,
          site_id: '1',
          client_id: `client-${n}`,
          chat_id: chatId,
          sender: { id: n, name: `Visitor ${n}` },
          message: { type: 'TEXT', text: 'hi', timestamp: Math.floor(Date.now() / 1000) },
          channel: { id: '1', type: 'widget' },
          event: 'CLIENT_MESSAGE',
        }),
      });
      if (response.status !== 200) throw new Error(`webhook ${n}: ${response.status}`);
      keys.push(`jivo-bot:${source.id}:${chatId}`);
    }
    // Conversations are known once their events are stored.
    await waitFor(async () => {
      const page = await api.admin.expectOk<{ data: unknown[] }>(
        'GET',
        `/api/events?sourceId=${source.id}&limit=200`,
      );
      return page.data.length >= Math.min(conversations, 200);
    }, 60_000);

    const cpuBefore = [api.process, worker].map((child) => readCpuMs(child.pid));
    const answeredAt = new Map<string, number>();
    const answerMs: number[] = [];
    const startedAt = Date.now();
    await Promise.all(
      keys.map(async (key, n) => {
        for (let m = 0; m < perConversation; m++) {
          const text = `c${n}-m${m}`;
          const sent = performance.now();
          const answer = await fetch(
            `${api.admin.baseUrl}/api/conversations/${encodeURIComponent(key)}/messages`,
            {
              method: 'POST',
              headers: {
                authorization: `Bearer ${env.adminKey}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify({ text }),
            },
          );
          await answer.body?.cancel();
          if (answer.status !== 202) throw new Error(`action ${text}: ${answer.status}`);
          answerMs.push(performance.now() - sent);
          answeredAt.set(text, Date.now());
        }
      }),
    );
    const total = conversations * perConversation;
    await waitFor(() => jivo.events.length >= total, 120_000, 50);
    const seconds = (Math.max(...jivo.requests.map((r) => r.receivedAt)) - startedAt) / 1000;
    const cpuUs = [api.process, worker].map(
      (child, index) => ((readCpuMs(child.pid) - cpuBefore[index]) * 1000) / total,
    );

    const delays = jivo.requests.map((r) => r.receivedAt - answeredAt.get(r.body.message.text)!);
    const order = new Map<string, number[]>();
    for (const event of jivo.events) {
      const [conversation, message] = String(event.message.text).split('-');
      order.set(conversation, [...(order.get(conversation) ?? []), Number(message.slice(1))]);
    }
    const inOrder = [...order.values()].every((seen) =>
      seen.every((value, index) => value === index),
    );
    const answer = summarize(answerMs);
    const delay = summarize(delays);
    const results = {
      conversations,
      perConversation,
      actions: total,
      arrived: jivo.events.length,
      seconds: round(seconds, 2),
      actionsPerSec: round(total / seconds),
      answerP50Ms: round(answer.p50),
      answerP99Ms: round(answer.p99),
      toPlatformP50Ms: delay.p50,
      toPlatformP99Ms: delay.p99,
      cpuUsPerAction: { api: round(cpuUs[0]), worker: round(cpuUs[1]) },
      inOrder,
      problems: jivo.problems.length,
    };
    printTable(
      `Actions: ${conversations} conversations × ${perConversation} messages, made in order on each`,
      ['actions/s', 'answer p50', 'answer p99', 'to platform p50', 'to platform p99', 'in order'],
      [
        [
          results.actionsPerSec,
          results.answerP50Ms,
          results.answerP99Ms,
          results.toPlatformP50Ms,
          results.toPlatformP99Ms,
          verdict(inOrder && results.problems === 0 && results.arrived === total),
        ],
      ],
    );
    console.log(
      `CPU per action: API ${results.cpuUsPerAction.api} µs, worker ${results.cpuUsPerAction.worker} µs`,
    );
    console.log(`→ ${writeResults('actions', results)}`);
  } finally {
    await worker.stop();
    await api.process.stop();
    await jivo.stop();
  }
}
