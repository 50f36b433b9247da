import type { Db } from '../db/pool.js';
import { type CrmInboundService, createCrmInboundService } from './crm-inbound.service.js';
import { createDealService, type DealService } from './deals.service.js';

export interface RoiServices {
  deals: DealService;
  crm: CrmInboundService;
}

export function createRoiServices({ db }: { db: Db }): RoiServices {
  const deals = createDealService({ db });
  return { deals, crm: createCrmInboundService({ db, deals }) };
}
