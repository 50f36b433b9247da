import type { Db } from '../db/pool.js';
import { type CrmInboundService, createCrmInboundService } from './crm-inbound.service.js';
import { createDealService, type DealService } from './deals.service.js';
import { createFormLeadService, type FormLeadService } from '../leads/form-leads.service.js';

export interface RoiServices {
  deals: DealService;
  crm: CrmInboundService;
  /** Web-form leads (leads/): stored with their visit, form.submitted through the outbox. */
  forms: FormLeadService;
}

export function createRoiServices({ db }: { db: Db }): RoiServices {
  const deals = createDealService({ db });
  return { deals, crm: createCrmInboundService({ db, deals }), forms: createFormLeadService({ db }) };
}
