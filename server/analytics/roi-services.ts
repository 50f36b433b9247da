import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { type CostPuller, createCostPuller } from './cost-puller.service.js';
import { type CrmInboundService, createCrmInboundService } from './crm-inbound.service.js';
import { createDealService, type DealService } from './deals.service.js';
import { createFormLeadService, type FormLeadService } from '../leads/form-leads.service.js';

export interface RoiServices {
  deals: DealService;
  crm: CrmInboundService;
  /** Web-form leads (leads/): stored with their visit, form.submitted through the outbox. */
  forms: FormLeadService;
  /** Ad cost connectors; pulls due sources every `costPullIntervalMs` (0 = only when asked). */
  costs: CostPuller;
  close(): void;
}

export function createRoiServices({
  db,
  logger,
  costPullIntervalMs,
  puller,
}: {
  db: Db;
  logger: Logger;
  costPullIntervalMs: number;
  /** Tests: a clock and shorter offline-report waits. */
  puller?: { now?: () => Date; retryScale?: number };
}): RoiServices {
  const deals = createDealService({ db });
  const costs = createCostPuller({ db, logger, intervalMs: costPullIntervalMs, ...puller });
  return { deals, crm: createCrmInboundService({ db, deals }), forms: createFormLeadService({ db }), costs, close: () => costs.close() };
}
