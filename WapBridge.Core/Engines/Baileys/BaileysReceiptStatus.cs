namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// The <c>status</c> of a bridge <c>receipt</c> event: Baileys' proto <c>WebMessageInfo.Status</c>, by number or name
/// (PROTOCOL.md; the bridge names the same values in baileys-bridge/src/receipts.js).
/// </summary>
internal enum BaileysReceiptStatus
{
    Error = 0,
    Pending = 1,
    ServerAck = 2,
    DeliveryAck = 3,
    Read = 4,
    Played = 5,
}
