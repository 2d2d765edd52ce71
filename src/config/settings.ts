import { plainToInstance, Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/**
 * A worker's heap growing factor when HEAP_GROWING_PERCENT is unset: at 50 the full GCs over
 * the conversations it remembers cost it ~10% of its CPU per delivery (returning visitors);
 * 100 takes ~240 MB peak RSS in a 3,000-event burst instead of ~215 (bench/README.md).
 */
export const WORKER_HEAP_GROWING_PERCENT = 100;

export const CONTACT_JOIN_MODES = ['email', 'phone', 'both', 'off'] as const;
export type ContactJoinMode = (typeof CONTACT_JOIN_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toBoolean = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['true', '1', 'yes'].includes(value.toLowerCase()) : value;
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;
const toNumberList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
        .map(Number)
    : value;

/** Svix's schedule: retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the first attempt. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000];

/**
 * Every setting the router reads, with its default. Built once at boot from the environment
 * (see .env.example); nothing reads process.env after that.
 */
export class Settings {
  @IsIn(APP_ROLES)
  APP_ROLE: AppRole = 'all';

  @IsIn(['production', 'development', 'test'])
  NODE_ENV: 'production' | 'development' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  /** The worker role's own port for /health/live, /health/ready and /metrics; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_HEALTH_PORT = 3001;

  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/webhook_router';

  @Transform(toBoolean)
  @IsBoolean()
  DATABASE_MIGRATE_ON_START = true;

  /** Postgres connections each process may open (its pool size). */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(500)
  DATABASE_POOL_SIZE = 20;

  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'may hold only letters, digits, - and _' })
  QUEUE_PREFIX = 'wr';

  @Transform(toList)
  @IsString({ each: true })
  ADMIN_API_KEYS: string[] = [];

  @Transform(toBoolean)
  @IsBoolean()
  ALLOW_PRIVATE_TARGETS = false;

  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  PUBLIC_BASE_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  INGEST_BODY_LIMIT_BYTES = 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  INGEST_ENQUEUE_TIMEOUT_MS = 5000;

  /** Time a client has to send a whole request, headers and body; then 408 and the connection is closed. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(10 * 60_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /**
   * A connection on which nothing is sent or received for this long is closed. Keep it above
   * the longest answer: a subscription test send waits up to 60 s for its target.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(60 * 60_000)
  HTTP_IDLE_TIMEOUT_MS = 120_000;

  /** Connections the API holds open at once; beyond it new ones are closed as they arrive (0: no cap). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  HTTP_MAX_CONNECTIONS = 10_000;

  /**
   * Ingest jobs at once per worker. A job mostly waits on Postgres (the conversation read, then
   * the event statement), and jobs waiting together share each statement: 60 against 20 cut the
   * worker's CPU per event ~15%, 100 no further (bench/README.md).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  INGEST_CONCURRENCY = 50;

  /** A repeated webhook (same delivery id, or same body on the same source) within this window is answered as the first and not routed again; 0 turns dedupe off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  DEDUPE_WINDOW_SECONDS = 24 * 3600;

  /** Default time budget of a source's enrichment call (Jivo's reply to its agent). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(10_000)
  ENRICHMENT_TIMEOUT_MS = 2000;

  /**
   * Conversations a worker remembers (and twice as many identities) to store their next event
   * without a read (docs/conversations.md). An event of one forgotten pays a read: size it above
   * the conversations active within a few minutes. ~4 KB of heap each (more with many messages).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  CONVERSATION_MEMORY_SIZE = 5_000;

  /** Which shared value joins identities of different sources into one contact (docs/conversations.md). */
  @IsIn(CONTACT_JOIN_MODES)
  CONTACT_JOIN: ContactJoinMode = 'both';

  /** Seconds to wait before each retry; attempts in all = retries + 1. Per subscription overridable. */
  @Transform(toNumberList)
  @ArrayMaxSize(99)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0, { each: true })
  @Max(7 * 24 * 3600, { each: true })
  DELIVERY_RETRY_SCHEDULE: number[] = DEFAULT_RETRY_SCHEDULE_SECONDS;

  /** Each scheduled wait is spread by up to ± this fraction, so retries of a burst do not land together. */
  @Transform(toInt)
  @IsNumber()
  @Min(0)
  @Max(1)
  DELIVERY_RETRY_JITTER = 0.2;

  /** The longest `Retry-After` (on 429/503) the router honours. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  DELIVERY_RETRY_AFTER_MAX_SECONDS = 3600;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DELIVERY_TIMEOUT_MS = 15000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  DELIVERY_CONCURRENCY = 50;

  /**
   * First attempts the ingest jobs of one worker keep in flight, unawaited, beside its delivery
   * jobs; an event beyond that gets a fan-out job (src/delivery/first-attempts.ts).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  FIRST_ATTEMPTS_IN_FLIGHT = 200;

  /** Attempts an action gets (each platform call of it counted) before it fails. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  ACTION_MAX_ATTEMPTS = 8;

  /** The first retry's wait; each next one doubles, up to ACTION_RETRY_MAX_SECONDS. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ACTION_RETRY_BASE_MS = 1000;

  /** The longest wait between two attempts of an action, `Retry-After` included. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ACTION_RETRY_MAX_SECONDS = 300;

  /** Per-call timeout to a platform (connect, headers and body). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  ACTION_TIMEOUT_MS = 10000;

  /** Actions sent at once per worker process (one at a time per conversation, whatever this says). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ACTION_CONCURRENCY = 20;

  /** Consecutive dead deliveries after which a subscription is disabled (0: never); per subscription overridable. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SUBSCRIPTION_DISABLE_AFTER_DEAD = 10;

  /** How long a rotated-out secret keeps signing deliveries beside the new one (default). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  SUBSCRIPTION_SECRET_GRACE_SECONDS = 86400;

  /** Wall-clock budget of one transform; its sandbox is killed a little after it (see transform-sandbox.ts). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(30_000)
  TRANSFORM_TIMEOUT_MS = 1000;

  /** Heap (V8 old space, MB) of each transform sandbox; a transform that needs more kills it. */
  @Transform(toInt)
  @IsInt()
  @Min(16)
  @Max(4096)
  TRANSFORM_HEAP_MB = 128;

  /** Transform sandboxes (child processes, one transform at a time each) per process. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  TRANSFORM_SANDBOXES = 2;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  TRANSFORM_MAX_OUTPUT_BYTES = 262_144;

  /** Pino level of the JSON logs; defaults to `warn` when NODE_ENV=test (see loadSettings). */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** After SIGTERM/SIGINT: time to finish in-flight requests and active jobs before exiting anyway. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(10 * 60_000)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  /**
   * V8's heap growing factor, in percent over the live heap, before a full GC (0: V8's own, which
   * lets a busy API grow to ~300 MB of mostly garbage). 50 keeps it under 200 MB for ~5% CPU.
   * Unset, a worker takes WORKER_HEAP_GROWING_PERCENT: its live heap holds the conversations it
   * remembers, which 50 would mark over and over.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  HEAP_GROWING_PERCENT = 50;

  /** Events older than this are deleted with their deliveries, unless a delivery is still pending or failed; 0 keeps them forever. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(36_500)
  RETENTION_EVENTS_DAYS = 30;

  /** Attempts of finished (succeeded or dead) deliveries older than this are deleted; 0 keeps them forever. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(36_500)
  RETENTION_ATTEMPTS_DAYS = 30;

  /** How often one of the workers runs the retention purge; 0 turns the schedule off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 60)
  RETENTION_INTERVAL_MINUTES = 60;

  /** How often one of the workers re-queues deliveries whose job is gone; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(24 * 60)
  DELIVERY_SWEEP_INTERVAL_MINUTES = 5;

  /**
   * How often one of the workers re-queues first attempts whose sender is gone: deliveries the
   * ingest job started sending in a process that died before recording them. 0 turns it off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  FIRST_ATTEMPT_SWEEP_INTERVAL_SECONDS = 10;

  /**
   * Ordered subscriptions: a conversation's head is sent once every webhook accepted before it
   * was stored, and once Redis's clock is this far past its accept time (docs/ordering.md).
   * Accept times come from Redis's own clock, so correctness needs no margin: 0 by default.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  ORDERING_SETTLE_MS = 0;

  /**
   * How often one of the workers looks for ordered conversations with nothing in flight (a worker
   * died between a head's outcome and the next one's release) and for heads whose job is gone;
   * 0 turns it off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  ORDERING_SWEEP_INTERVAL_SECONDS = 10;

  /** How often one of the workers re-queues queued actions whose job is gone; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(24 * 60)
  ACTION_SWEEP_INTERVAL_MINUTES = 1;

  /** The routes file (routes as code); unset or empty: config/routes.yaml when it exists. */
  @IsOptional()
  @IsString()
  ROUTES_FILE?: string;

  /** The API role applies the routes file at boot, under the migrations' lock (never prunes). */
  @Transform(toBoolean)
  @IsBoolean()
  ROUTES_APPLY_ON_START = false;

  get publicBaseUrl(): string {
    return (this.PUBLIC_BASE_URL ?? `http://localhost:${this.PORT}`).replace(/\/+$/, '');
  }

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}

export class InvalidSettingsError extends Error {}

/** Reads and validates the settings; a bad variable stops the boot with its name. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  // An empty value (`PUBLIC_BASE_URL=` in an env file) means unset: the default applies.
  const defined = Object.fromEntries(
    Object.entries(env).filter(
      ([key, value]) => value !== undefined && value !== '' && key in new Settings(),
    ),
  );
  const settings = plainToInstance(Settings, defined, { exposeDefaultValues: true });
  // Tests stay quiet unless they ask for more.
  if (defined.LOG_LEVEL === undefined && settings.NODE_ENV === 'test') settings.LOG_LEVEL = 'warn';
  if (defined.HEAP_GROWING_PERCENT === undefined && settings.APP_ROLE === 'worker') {
    settings.HEAP_GROWING_PERCENT = WORKER_HEAP_GROWING_PERCENT;
  }
  const errors = validateSync(settings, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (error) =>
        `${error.property}=${JSON.stringify(env[error.property])}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new InvalidSettingsError(`Invalid settings:\n  ${lines.join('\n  ')}`);
  }
  if (settings.ADMIN_API_KEYS.length === 0 && settings.isProduction) {
    throw new InvalidSettingsError(
      'Invalid settings:\n  ADMIN_API_KEYS: required when NODE_ENV=production (comma-separated keys)',
    );
  }
  if (settings.ADMIN_API_KEYS.some((key) => key.length < 16)) {
    throw new InvalidSettingsError(
      'Invalid settings:\n  ADMIN_API_KEYS: every key must be at least 16 characters',
    );
  }
  return settings;
}
