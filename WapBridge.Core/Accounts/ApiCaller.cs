namespace WapBridge.Core.Accounts;

/// <summary>Who a verified API credential speaks for.</summary>
public sealed record ApiCaller(int CustomerId, string CustomerCode, int ApiKeyId, string Key, bool IsAdmin);
