using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// One Cloud API instance: its credentials, checked against Graph on connect, and its sends. Graph has no idempotency
/// key, so a send is tried again only when Graph throttled it (nothing went out) or the request certainly never reached
/// Graph; a 5xx or a timeout after the request left fails the message instead of risking a duplicate.
/// </summary>
internal sealed partial class CloudApiSession(EngineSessionContext context, GraphClient graph, GraphSendLimiter limiter,
    IReadOnlyList<TimeSpan> retryBackoff, Func<EngineMedia, string?> linkTo, TimeProvider time, ILogger logger) : IEngineSession, IEngineTemplates
{
    private volatile CloudApiCredentials? _connected;
    private bool _disposed;

    public string InstanceId => context.InstanceId;

    public async Task ConnectAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _connected = null;
        var credentials = CloudApiCredentials.FromJson(await context.Credentials.LoadAsync(ct));
        if (credentials is null)
        {
            await EmitAsync(new DisconnectedEvent(InstanceId, time.GetUtcNow(),
                "Cloud API credentials missing: set the phone number id and access token of the instance again", Transient: false), ct);
            return;
        }
        GraphPhoneNumber number;
        try
        {
            number = await graph.GetPhoneNumberAsync(credentials.PhoneNumberId, credentials.AccessToken, ct);
        }
        catch (GraphException e) when (e.IsTokenRefused)
        {
            await EmitAsync(TokenRefused(e), ct);
            return;
        }
        catch (GraphException e) when (e.HttpStatus >= 500 || e.IsThrottling)
        {
            await EmitAsync(new DisconnectedEvent(InstanceId, time.GetUtcNow(), "Graph could not answer for the number now; trying again", Transient: true)
                { Detail = e.Message }, ct);
            return;
        }
        catch (GraphException e)
        {
            await EmitAsync(new DisconnectedEvent(InstanceId, time.GetUtcNow(),
                $"Graph refused the phone number id {credentials.PhoneNumberId}: {e.Message}; check the phone number id and the token's permissions", Transient: false), ct);
            return;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            await EmitAsync(new DisconnectedEvent(InstanceId, time.GetUtcNow(), "Graph could not be reached; trying again", Transient: true) { Detail = e.Message }, ct);
            return;
        }
        _connected = credentials;
        var digits = new string(number.DisplayPhoneNumber.Where(char.IsAsciiDigit).ToArray());
        logger.LogInformation("Cloud API instance {Instance} connected as {Number} (phone number id {PhoneNumberId}, quality {Quality})",
            InstanceId, digits, credentials.PhoneNumberId, number.QualityRating);
        await EmitAsync(new ConnectedEvent(InstanceId, time.GetUtcNow(), digits, number.VerifiedName), ct);
    }

    public async Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        if (_connected is not { } credentials)
            return EngineSendResult.Failed("not_connected", "The Cloud API session is not connected.");
        var body = Envelope(message);
        if (message.Media is { } media)
        {
            var kind = MediaKind(media.MimeType);
            JsonObject file;
            if (linkTo(media) is { } link)
                file = new JsonObject { ["link"] = link };
            else
            {
                var upload = await TryAsync(() => graph.UploadMediaAsync(credentials, media, ct), sendsMessage: false, ct);
                if (upload.Failure is { } failed)
                    return failed;
                file = new JsonObject { ["id"] = upload.Value };
            }
            var caption = message.Caption ?? message.Text;
            if (caption is { Length: > 0 } && kind is "image" or "video" or "document")
                file["caption"] = caption;
            if (kind == "document")
                file["filename"] = media.FileName ?? "file";
            body["type"] = kind;
            body[kind] = file;
        }
        else if (message.Content is { } content)
            AddContent(body, content);
        else
        {
            var text = message.Text ?? "";
            body["type"] = "text";
            body["text"] = new JsonObject { ["preview_url"] = Link().IsMatch(text), ["body"] = text };
        }

        var sent = await TryAsync(async () =>
        {
            await limiter.WaitTurnAsync(credentials.PhoneNumberId, ct);
            return await graph.PostMessageAsync(credentials, body, ct);
        }, sendsMessage: true, ct);
        if (sent.Failure is { } failure)
            return failure;
        if (sent.Value?["messages"]?[0]?["id"] is JsonValue id && id.GetValueKind() == JsonValueKind.String)
            return EngineSendResult.Sent(id.GetValue<string>());
        // Graph took the request: sending again could deliver it twice.
        return EngineSendResult.Failed(GraphErrorCodes.Unconfirmed,
            "Graph accepted the send without a message id: it may or may not have reached WhatsApp; it was not sent again to avoid a duplicate");
    }

    /// <summary>The fields every message shares: the product, the recipient, and the message it replies to.</summary>
    private static JsonObject Envelope(OutgoingMessage message)
    {
        if (message.ToPhone.EndsWith("@g.us", StringComparison.Ordinal))
            throw new EngineFeatureUnavailableException(EngineFeatures.Groups);
        if (message.Mentions is { Count: > 0 })
            throw new EngineFeatureUnavailableException(EngineFeatures.Mentions);
        var body = new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["recipient_type"] = "individual",
            ["to"] = new string(message.ToPhone.TakeWhile(c => c != '@').Where(char.IsAsciiDigit).ToArray()),
        };
        if (message.Quoted is { } quoted)
            body["context"] = new JsonObject { ["message_id"] = quoted.Key.Id };
        return body;
    }

    private static void AddContent(JsonObject body, OutgoingContent content)
    {
        switch (content)
        {
            case OutgoingReaction reaction:
                body["type"] = "reaction";
                // An empty emoji takes our reaction back, as on the phone.
                body["reaction"] = new JsonObject { ["message_id"] = reaction.Target.Id, ["emoji"] = reaction.Emoji };
                return;
            case OutgoingLocation location:
                var place = new JsonObject { ["latitude"] = location.Latitude, ["longitude"] = location.Longitude };
                if (location.Name is not null) place["name"] = location.Name;
                if (location.Address is not null) place["address"] = location.Address;
                body["type"] = "location";
                body["location"] = place;
                return;
            case OutgoingContacts contacts:
                body["type"] = "contacts";
                body["contacts"] = new JsonArray(contacts.Contacts.Select(ContactOf).ToArray<JsonNode?>());
                return;
            case OutgoingTemplate template:
                var t = new JsonObject { ["name"] = template.Name, ["language"] = new JsonObject { ["code"] = template.Language } };
                if (template.ComponentsJson is { } components)
                    t["components"] = JsonNode.Parse(components);
                body["type"] = "template";
                body["template"] = t;
                return;
            default:
                throw new EngineFeatureUnavailableException(content.Feature);
        }
    }

    /// <summary>Graph's contact object: a name (formatted and first, both required) and the number, marked as a WhatsApp id.</summary>
    private static JsonObject ContactOf(OutgoingContact contact)
    {
        var digits = new string(contact.Number.Where(char.IsAsciiDigit).ToArray());
        return new JsonObject
        {
            ["name"] = new JsonObject { ["formatted_name"] = contact.Name, ["first_name"] = contact.Name },
            ["phones"] = new JsonArray(new JsonObject { ["phone"] = "+" + digits, ["type"] = "CELL", ["wa_id"] = digits }),
        };
    }

    /// <summary>
    /// Graph's media kind for a file: image, video and audio in the formats Meta accepts for them; WebP is a sticker;
    /// anything else goes as a document (with its file name), so it still arrives.
    /// </summary>
    internal static string MediaKind(string mimeType)
    {
        var m = mimeType.Split(';')[0].Trim().ToLowerInvariant();
        return m switch
        {
            "image/jpeg" or "image/png" => "image",
            "image/webp" => "sticker",
            "video/mp4" or "video/3gpp" => "video",
            "audio/aac" or "audio/amr" or "audio/mpeg" or "audio/mp4" or "audio/ogg" => "audio",
            _ => "document",
        };
    }

    private readonly record struct Attempt<T>(T? Value, EngineSendResult? Failure);

    /// <summary>
    /// One Graph call under the send rules: tried again after a throttle (Graph's <c>Retry-After</c>, else the backoff)
    /// or a connection that never opened, at most once per backoff step; any other failure answers at once. A media
    /// upload (<paramref name="sendsMessage"/> false) that may have reached Graph is still safe to repeat later: nothing
    /// went to the recipient yet, a repeat costs at most an orphan file at Meta.
    /// </summary>
    private async Task<Attempt<T>> TryAsync<T>(Func<Task<T>> call, bool sendsMessage, CancellationToken ct)
    {
        var what = sendsMessage ? "send" : "media upload";
        for (var attempt = 0; ; attempt++)
        {
            TimeSpan pause;
            try
            {
                return new Attempt<T>(await call(), null);
            }
            catch (GraphException e) when (e.IsThrottling)
            {
                if (attempt >= retryBackoff.Count || e.RetryAfter > CloudApiEngine.MaxRetryAfter)
                    return new Attempt<T>(default, EngineSendResult.Failed(GraphErrorCodes.Throttled,
                        $"{e.Message}: Graph throttled the {what} {attempt + 1} times; it is tried again later"));
                pause = e.RetryAfter ?? retryBackoff[attempt];
                logger.LogInformation("Graph throttled the {What} of instance {Instance} (Meta error {Code}); trying again in {Pause}", what, InstanceId, e.MetaCode, pause);
            }
            catch (GraphException e) when (e.IsTokenRefused)
            {
                // Nothing works until the owner replaces the token: the messages wait for it instead of failing one by one.
                _connected = null;
                await EmitAsync(TokenRefused(e), ct);
                return new Attempt<T>(default, EngineSendResult.Failed("not_connected", e.Message));
            }
            catch (GraphException e) when (e.HttpStatus >= 500)
            {
                return new Attempt<T>(default, Unconfirmed(sendsMessage, $"Graph answered HTTP {e.HttpStatus} ({e.Message})"));
            }
            catch (GraphException e)
            {
                return new Attempt<T>(default, EngineSendResult.Failed(e.Code, e.Message));
            }
            catch (HttpRequestException e) when (GraphClient.IsNeverSent(e))
            {
                if (attempt >= retryBackoff.Count)
                    return new Attempt<T>(default, EngineSendResult.Failed(GraphErrorCodes.Unreachable,
                        $"Graph could not be reached ({e.Message}); nothing was sent, it is tried again later"));
                pause = retryBackoff[attempt];
                logger.LogInformation("Graph could not be reached for the {What} of instance {Instance} ({Error}); trying again in {Pause}", what, InstanceId, e.Message, pause);
            }
            catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !ct.IsCancellationRequested)
            {
                return new Attempt<T>(default, Unconfirmed(sendsMessage, e is OperationCanceledException ? "Graph did not answer in time" : $"the connection to Graph broke ({e.Message})"));
            }
            if (pause > TimeSpan.Zero)
                await Task.Delay(pause, time, ct);
        }
    }

    private EngineSendResult Unconfirmed(bool sendsMessage, string cause)
    {
        if (!sendsMessage)
            return EngineSendResult.Failed(GraphErrorCodes.Unreachable, $"the media upload failed: {cause}; nothing was sent, it is tried again later");
        logger.LogWarning("A send of instance {Instance} is unconfirmed: {Cause}", InstanceId, cause);
        return EngineSendResult.Failed(GraphErrorCodes.Unconfirmed,
            $"{cause}: the message may or may not have reached WhatsApp; it was not sent again to avoid a duplicate");
    }

    private DisconnectedEvent TokenRefused(GraphException e) =>
        new(InstanceId, time.GetUtcNow(), "the access token was refused by Meta (expired or revoked): update it with a new permanent token", Transient: false)
        {
            Detail = e.Message,
        };

    public async Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys, CancellationToken ct = default)
    {
        var credentials = _connected ?? throw new EngineSessionStateException("not_connected", "The Cloud API session is not connected.");
        foreach (var key in keys.Where(k => !k.FromMe))
            await graph.PostMessageAsync(credentials, new JsonObject { ["messaging_product"] = "whatsapp", ["status"] = "read", ["message_id"] = key.Id }, ct);
    }

    public async Task<IReadOnlyList<EngineTemplate>> ListTemplatesAsync(CancellationToken ct = default)
    {
        var credentials = _connected ?? CloudApiCredentials.FromJson(await context.Credentials.LoadAsync(ct))
            ?? throw new EngineSessionStateException("not_connected", "The Cloud API instance has no credentials.");
        return await graph.ListTemplatesAsync(credentials, ct);
    }

    public Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default) =>
        throw new EngineSessionStateException("not_pairing", "A Cloud API instance is not paired with a phone: it uses the number's access token.");

    /// <summary>Nothing to unlink at Meta (the token stays valid for the owner's other uses): the session just stops.</summary>
    public Task LogoutAsync(CancellationToken ct = default)
    {
        _connected = null;
        return Task.CompletedTask;
    }

    private ValueTask EmitAsync(EngineEvent e, CancellationToken ct) => context.Events.OnEventAsync(e, ct);

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        _connected = null;
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"https?://\S", RegexOptions.IgnoreCase)]
    private static partial Regex Link();
}
