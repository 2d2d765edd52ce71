/** Queues and the data each job carries: ids and the bytes received, never secrets. */
export const INGEST_QUEUE = 'ingest';
export const DELIVERY_QUEUE = 'delivery';
/** Housekeeping on a schedule (retention, stranded deliveries and actions); one job per interval however many workers run. */
export const MAINTENANCE_QUEUE = 'maintenance';
/** Actions on conversations (answers to the platforms); job id = action id. */
export const ACTION_QUEUE = 'actions';

export interface ActionJobData {
  actionId: string;
}

export interface ActionJobs {
  'action.send': ActionJobData;
}

export interface IngestJobData {
  eventId: string;
  sourceId: string;
  sourceKind: string;
  sourceDeliveryId: string | null;
  receivedAt: string;
  /** The request body exactly as received (UTF-8 JSON text). */
  rawBody: string;
}

export interface DeliveryJobData {
  deliveryId: string;
  /** The delivery's run when queued; a job of an older run (before a retry or re-drive) is stale. */
  run?: number;
}

/** The first attempts of an event's new deliveries, made together; each retry is a job of its own. */
export interface FanOutJobData {
  eventId: string;
  deliveries: { deliveryId: string; run: number }[];
}

export interface IngestJobs {
  'webhook.received': IngestJobData;
}

export interface DeliveryJobs {
  'delivery.send': DeliveryJobData;
  'delivery.fanout': FanOutJobData;
}

export interface MaintenanceJobs {
  'retention.purge': Record<string, never>;
  'deliveries.sweep': Record<string, never>;
  'deliveries.sweepFirstAttempts': Record<string, never>;
  'ordering.sweep': Record<string, never>;
  'actions.sweep': Record<string, never>;
}

export type IngestJobName = keyof IngestJobs;
export type DeliveryJobName = keyof DeliveryJobs;
/** A delivery queue job, its data typed by its name. */
export type DeliveryJob = {
  [Name in DeliveryJobName]: { name: Name; data: DeliveryJobs[Name] };
}[DeliveryJobName];
export type MaintenanceJobName = keyof MaintenanceJobs;
