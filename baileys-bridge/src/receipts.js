// @ts-check
// The `status` of a `receipt` event: proto WebMessageInfo.Status, which the host maps to its message states
// (WapBridge.Core/Engines/Baileys/BaileysMessageMapper.cs reads the same numbers).

import { toNumber } from './wire.js';

export const RECEIPT_STATUS = Object.freeze({
  ERROR: 0,
  PENDING: 1,
  SERVER_ACK: 2,
  DELIVERY_ACK: 3,
  READ: 4,
  PLAYED: 5,
});

/**
 * A `message-receipt.update` receipt (groups, status) as a receipt status: the furthest of its timestamps.
 * @param {{ playedTimestamp?: unknown, readTimestamp?: unknown, receiptTimestamp?: unknown } | undefined} receipt
 * @returns {{ status: number, timestamp: number | undefined } | undefined}
 */
export function receiptStatus(receipt) {
  if (!receipt) return undefined;
  if (receipt.playedTimestamp) return { status: RECEIPT_STATUS.PLAYED, timestamp: toNumber(receipt.playedTimestamp) };
  if (receipt.readTimestamp) return { status: RECEIPT_STATUS.READ, timestamp: toNumber(receipt.readTimestamp) };
  if (receipt.receiptTimestamp) return { status: RECEIPT_STATUS.DELIVERY_ACK, timestamp: toNumber(receipt.receiptTimestamp) };
  return undefined;
}
