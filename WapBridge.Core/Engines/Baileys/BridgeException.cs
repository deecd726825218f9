using System.Text.Json;
using System.Text.Json.Nodes;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>A request the bridge answered with <c>ok:false</c>, or that it could not answer.</summary>
public sealed class BridgeException(string code, string message) : EngineException(code, message)
{
    /// <summary>WhatsApp's own code behind a refused request (a send's error ack or Baileys' status code), when the bridge gave one.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The response's whole <c>error</c> object (extra fields such as <c>restriction</c>).</summary>
    public JsonElement Error { get; init; }
}

/// <summary>What a bridge process tells one session: its events and its auth-state calls.</summary>
internal interface IBridgeSessionHandler
{
    void OnBridgeEvent(string eventName, JsonElement data);

    /// <summary>Answers an auth call (<c>load_creds</c>, <c>get_keys</c>, …) with its result object.</summary>
    Task<JsonObject> OnAuthCallAsync(string op, JsonElement parameters, CancellationToken ct);
}

