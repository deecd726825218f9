using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Answers a Baileys session's auth-state calls (PROTOCOL.md, host-side requests) from the host's encrypted store,
/// one at a time so Baileys sees its own writes in order, and serves the sent messages kept for resends.
/// </summary>
internal sealed class BaileysAuthBridge
{
    /// <summary>The final reason when the auth state cannot be decrypted (a lost Data Protection key ring).</summary>
    internal const string CredentialsUnreadableReason = "credentials unreadable: restore the key ring or pair again";

    private readonly EngineSessionContext _context;
    private readonly IEngineAuthStore _auth;
    private readonly BaileysSessionState _state;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _credentialsUnreadable;

    public BaileysAuthBridge(EngineSessionContext context, BaileysSessionState state, ILogger logger)
    {
        _context = context;
        _auth = context.AuthState ?? new MemoryAuthStore();
        _state = state;
        _logger = logger;
    }

    private string InstanceId => _context.InstanceId;

    /// <summary>An auth call failed because the stored auth state cannot be decrypted: retrying cannot help.</summary>
    public bool CredentialsUnreadable => _credentialsUnreadable;

    public async Task<JsonObject> OnAuthCallAsync(string op, JsonElement parameters, CancellationToken ct)
    {
        // Sent message content is not auth state: it needs no ordering with key writes.
        if (op is "store_message" or "get_message")
            return await OnSentMessageCallAsync(op, parameters, ct);
        // A closed session's socket may still flush keys while it ends; the instance may be open elsewhere by now.
        if (_state.Disposed && op is not "load_creds" and not "get_keys")
            throw new BridgeException("session_closed", $"the session is closed; {op} refused");
        await _gate.WaitAsync(ct);
        try
        {
            return await AnswerAuthCallAsync(op, parameters, ct);
        }
        catch (CryptographicException e)
        {
            _credentialsUnreadable = true;
            _logger.LogError("The auth state of {Instance} cannot be decrypted ({Error}); restore the key ring or pair again", InstanceId, e.Message);
            throw new BridgeException("credentials_unreadable", CredentialsUnreadableReason);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets the auth state and the marker that told the host it had credentials to resume with.</summary>
    public async Task ForgetAsync(CancellationToken ct)
    {
        await _auth.ClearAsync(ct);
        await _context.Credentials.SaveAsync(null, ct);
    }

    /// <summary><c>store_message</c> keeps what a send encoded (before the send is reported done); <c>get_message</c> serves resends.</summary>
    private async Task<JsonObject> OnSentMessageCallAsync(string op, JsonElement parameters, CancellationToken ct)
    {
        var id = BridgeProcess.Str(parameters, "id") ?? throw new BridgeException("invalid_params", $"{op} needs an id");
        if (op == "store_message")
        {
            var content = BridgeProcess.Str(parameters, "content") ?? throw new BridgeException("invalid_params", "store_message needs the content");
            if (_context.SentMessages is { } store)
                await store.SaveAsync(id, BridgeProcess.Str(parameters, "remoteJid") ?? "", Convert.FromBase64String(content), ct);
            return [];
        }
        var stored = _context.SentMessages is { } source ? await source.GetAsync(id, ct) : null;
        if (stored is null)
            _logger.LogInformation("A resend of {MessageId} on {Instance} was asked for, but its content is not stored (any more)", id, InstanceId);
        return new JsonObject { ["content"] = stored is null ? null : Convert.ToBase64String(stored) };
    }

    private async Task<JsonObject> AnswerAuthCallAsync(string op, JsonElement parameters, CancellationToken ct)
    {
        switch (op)
        {
            case "load_creds":
            {
                var values = await _auth.GetAsync(BaileysAuthCategories.Creds, [BaileysAuthCategories.CredsKey], ct);
                return new JsonObject { ["creds"] = values.GetValueOrDefault(BaileysAuthCategories.CredsKey) };
            }
            case "save_creds":
                await _auth.SetAsync([new EngineAuthChange(BaileysAuthCategories.Creds, BaileysAuthCategories.CredsKey, Opaque(parameters, "creds"))], ct);
                return [];
            case "get_keys":
            {
                var category = BridgeProcess.Str(parameters, "category") ?? throw new BridgeException("invalid_params", "get_keys needs a category");
                var ids = parameters.TryGetProperty("ids", out var list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.String ? i.GetString()! : i.GetRawText()).ToList()
                    : [];
                var values = await _auth.GetAsync(category, ids, ct);
                var result = new JsonObject();
                foreach (var id in ids)
                    result[id] = values.GetValueOrDefault(id);
                return new JsonObject { ["values"] = result };
            }
            case "set_keys":
            {
                var changes = new List<EngineAuthChange>();
                if (parameters.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
                    foreach (var category in data.EnumerateObject())
                        if (category.Value.ValueKind == JsonValueKind.Object)
                            foreach (var entry in category.Value.EnumerateObject())
                                changes.Add(new EngineAuthChange(category.Name, entry.Name, OpaqueValue(entry.Value)));
                await _auth.SetAsync(changes, ct);
                return [];
            }
            case "clear":
                await ForgetAsync(ct);
                return [];
            default:
                throw new BridgeException("unknown_op", $"the host does not know the auth operation '{op}'");
        }
    }

    // Values are opaque strings; anything else is kept as its JSON text rather than refused.
    private static string? Opaque(JsonElement parameters, string name) =>
        parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty(name, out var value) ? OpaqueValue(value) : null;

    private static string? OpaqueValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => value.GetRawText(),
    };

    /// <summary>Auth state kept in memory, for hosts that give the session no store.</summary>
    private sealed class MemoryAuthStore : IEngineAuthStore
    {
        private readonly ConcurrentDictionary<(string, string), string> _values = new();

        public Task<IReadOnlyDictionary<string, string?>> GetAsync(string category, IReadOnlyCollection<string> keyIds, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyDictionary<string, string?>>(keyIds.Distinct().ToDictionary(id => id, id => _values.GetValueOrDefault((category, id))));

        public Task SetAsync(IReadOnlyCollection<EngineAuthChange> changes, CancellationToken ct = default)
        {
            foreach (var c in changes)
                if (c.Value is null) _values.TryRemove((c.Category, c.KeyId), out _);
                else _values[(c.Category, c.KeyId)] = c.Value;
            return Task.CompletedTask;
        }

        public Task ClearAsync(CancellationToken ct = default)
        {
            _values.Clear();
            return Task.CompletedTask;
        }
    }
}

/// <summary>How Baileys' auth state is laid out in the store: creds under one key, signal keys by their own category.</summary>
internal static class BaileysAuthCategories
{
    public const string Creds = "creds";
    public const string CredsKey = "creds";
}
