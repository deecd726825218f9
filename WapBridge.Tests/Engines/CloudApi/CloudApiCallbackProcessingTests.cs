using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// Meta's callbacks processed where the instance's session lives: inbound messages of every kind become the seed's
/// <c>message</c> webhook (as the other engines'), statuses move our messages with Meta's reasons, a callback Meta sends
/// again changes nothing, and a status that overtakes the outbox's record of its <c>wamid</c> waits for it.
/// </summary>
public abstract class CloudApiCallbackProcessingTests(CloudApiApp app)
{
    private const string Sender = "255755123456";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(CloudApiInboundInstance Instance, WebhookReceiver Receiver)> ConnectedAsync(bool open = true)
    {
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        var receiver = await WebhookReceiver.StartAsync();
        (await instance.Client.CallAsync("wap_bridge.api.settings.set_webhook",
            new { url = receiver.Url, events = new[] { "message", "message.ack", "message.reaction" } })).EnsureOk();
        if (open)
            await CloudApiInboundInstances.OpenAsync(app, instance);
        return (instance, receiver);
    }

    private static async Task PostOkAsync(CloudApiInboundInstance instance, HttpClient meta, JsonObject payload)
    {
        var answer = await MetaWebhooks.PostAsync(meta, instance.Code, instance.Number.AppSecret, payload);
        Assert.True(answer.IsSuccessStatusCode, $"callback answered {(int)answer.StatusCode}");
    }

    private static IEnumerable<JsonNode> Events(IReadOnlyList<ReceivedWebhook> received, string name) =>
        received.Select(r => JsonNode.Parse(r.Body)!).Where(b => b["event"]?.GetValue<string>() == name);

    private static async Task<List<JsonNode>> MessagesAsync(WebhookReceiver receiver, int count, int seconds = 30) =>
        Events(await receiver.WaitForAsync(r => Events(r, "message").Count() >= count, seconds), "message").Select(b => b["message"]!).ToList();

    private async Task<T> InDbAsync<T>(Func<WapBridgeDbContext, Task<T>> query)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        return await query(db);
    }

    /// <summary>One of our messages as the outbox leaves it once Graph accepted it (<paramref name="wamid"/>: Graph's id, null before it is recorded).</summary>
    private async Task<Message> SentAsync(CloudApiInboundInstance instance, string text, string? wamid)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        var row = await db.Instances.AsNoTracking().SingleAsync(i => i.Id == instance.Id, Ct);
        var message = OutboundMessages.New(row, Sender, text, null, null, MessageSources.Api, null, DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        message.Status = MessageStatus.Sent;
        message.EngineMessageId = wamid;
        await using var tx = await db.Database.BeginTransactionAsync(Ct);
        await OutboundMessages.InsertAsync(db, [message], Ct);
        await tx.CommitAsync(Ct);
        return message;
    }

    private async Task<List<CloudApiCallback>> CallbacksAsync(int instanceId) =>
        await InDbAsync(db => db.CloudApiCallbacks.AsNoTracking().Where(c => c.InstanceId == instanceId).OrderBy(c => c.Id).ToListAsync(Ct));

    private static async Task WaitUntilAsync(Func<Task<bool>> done, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(what);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Every_inbound_kind_reaches_the_customers_webhook_as_the_seeds_message_event()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        var photo = new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5 };
        var photoId = app.Graph.AddMedia(photo, "image/jpeg");
        var pdf = "%PDF-1.4 invoice"u8.ToArray();
        var pdfId = app.Graph.AddMedia(pdf, "application/pdf", "invoice.pdf");
        var voiceId = app.Graph.AddMedia([0x4F, 0x67, 0x67, 0x53], "audio/ogg; codecs=opus");

        await PostOkAsync(instance, meta, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha Juma",
            MetaWebhooks.Text(Sender, "Habari, bei gani?"),
            MetaWebhooks.Media(Sender, "image", photoId, "image/jpeg", caption: "this one"),
            MetaWebhooks.Media(Sender, "document", pdfId, "application/pdf", caption: "my invoice", fileName: "invoice.pdf"),
            MetaWebhooks.Media(Sender, "audio", voiceId, "audio/ogg; codecs=opus", voice: true),
            MetaWebhooks.Location(Sender, -6.7924, 39.2083, "Kariakoo Market", "Dar es Salaam"),
            MetaWebhooks.Contacts(Sender, ("Juma Ali", "255755999888")),
            MetaWebhooks.ButtonReply(Sender, "confirm-42", "Yes, confirm"),
            MetaWebhooks.ListReply(Sender, "size-m", "Medium"),
            MetaWebhooks.TemplateButton(Sender, "STOP_PROMOS", "Stop promotions")));

        var messages = await MessagesAsync(receiver, 9);
        var hook = Events(receiver.Received, "message").First();
        Assert.Equal((instance.Code, instance.Customer.Code), (hook["instance_id"]!.GetValue<string>(), hook["customer"]!.GetValue<string>()));
        Assert.All(messages, m =>
        {
            Assert.Equal(Sender + "@c.us", m["from"]!.GetValue<string>());
            Assert.False(m["fromMe"]!.GetValue<bool>());
            Assert.Equal("Asha Juma", m["pushName"]!.GetValue<string>());
            Assert.StartsWith($"false_{Sender}@c.us_wamid.", m["id"]!.GetValue<string>(), StringComparison.Ordinal);
        });
        var byType = messages.GroupBy(m => m["type"]!.GetValue<string>()).ToDictionary(g => g.Key, g => g.ToList());

        // Webhooks are delivered in no particular order.
        var chats = byType["chat"].Select(m => (m["body"]!.GetValue<string>(), m["selectedButtonId"]?.GetValue<string>(), m["selectedRowId"]?.GetValue<string>()))
            .OrderBy(c => c.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal([("Habari, bei gani?", null, null), ("Medium", null, "size-m"), ("Stop promotions", "STOP_PROMOS", null), ("Yes, confirm", "confirm-42", null)], chats);

        var image = Assert.Single(byType["image"]);
        Assert.True(image["hasMedia"]!.GetValue<bool>());
        Assert.Equal(("this one", "image/jpeg"), (image["body"]!.GetValue<string>(), image["media"]!["mimetype"]!.GetValue<string>()));
        Assert.Equal(photo, Convert.FromBase64String(image["media"]!["data"]!.GetValue<string>()));
        var document = Assert.Single(byType["document"]);
        Assert.Equal(("my invoice", "invoice.pdf"), (document["caption"]!.GetValue<string>(), document["media"]!["filename"]!.GetValue<string>()));
        Assert.Equal(pdf, Convert.FromBase64String(document["media"]!["data"]!.GetValue<string>()));
        Assert.True(Assert.Single(byType["ptt"])["hasMedia"]!.GetValue<bool>());

        var location = Assert.Single(byType["location"]);
        Assert.Equal((-6.7924, 39.2083, "Kariakoo Market"), (location["location"]!["latitude"]!.GetValue<double>(),
            location["location"]!["longitude"]!.GetValue<double>(), location["location"]!["name"]!.GetValue<string>()));
        var card = Assert.Single(byType["vcard"]);
        Assert.Contains("waid=255755999888", card["vCards"]![0]!.GetValue<string>(), StringComparison.Ordinal);

        // Media came from Graph with the instance's token.
        Assert.All(app.Graph.Requests.Where(r => r.Path.Contains(photoId, StringComparison.Ordinal)),
            r => Assert.Equal("Bearer " + instance.Number.AccessToken, r.Header("Authorization")));
        await WaitUntilAsync(async () => (await CallbacksAsync(instance.Id)).All(c => c.ProcessedAt is not null), "the callback was never marked processed");
    }

    [Fact]
    public async Task Media_graph_cannot_give_still_arrives_as_a_message_that_says_why()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        // Over the image limit of this host (64 KiB).
        var bigId = app.Graph.AddMedia(new byte[70_000], "image/jpeg");

        await PostOkAsync(instance, meta, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, null,
            MetaWebhooks.Media(Sender, "image", bigId, "image/jpeg", caption: "too big"),
            MetaWebhooks.Media(Sender, "video", "404404404", "video/mp4", caption: "gone")));

        var messages = await MessagesAsync(receiver, 2);
        Assert.All(messages, m =>
        {
            Assert.True(m["hasMedia"]!.GetValue<bool>());
            Assert.False(string.IsNullOrWhiteSpace(m["media"]!["error"]!.GetValue<string>()));
            Assert.Null(m["media"]!["data"]);
        });
        Assert.Equal(["gone", "too big"], messages.Select(m => m["caption"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_reply_and_a_reaction_to_our_message_name_it_by_our_id()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        var wamid = MetaWebhooks.NewWamid();
        var ours = await SentAsync(instance, "Your order has shipped", wamid);

        await PostOkAsync(instance, meta, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha",
            MetaWebhooks.Text(Sender, "Thanks!", replyTo: wamid),
            MetaWebhooks.Reaction(Sender, wamid, "❤️")));

        var messages = await MessagesAsync(receiver, 2);
        var reply = messages.Single(m => m["type"]!.GetValue<string>() == "chat");
        Assert.Equal((ours.WaMessageId, "Your order has shipped"), (reply["quotedId"]!.GetValue<string>(), reply["quotedBody"]!.GetValue<string>()));
        var reaction = messages.Single(m => m["type"]!.GetValue<string>() == "reaction");
        Assert.Equal(("❤️", ours.WaMessageId), (reaction["reaction"]!["emoji"]!.GetValue<string>(), reaction["reaction"]!["msgId"]!.GetValue<string>()));
        var reactionEvent = Events(await receiver.WaitForAsync(r => Events(r, "message.reaction").Any()), "message.reaction").Single();
        Assert.Equal("❤️", reactionEvent["data"]!["emoji"]!.GetValue<string>());
    }

    [Fact]
    public async Task Statuses_move_our_messages_and_a_failure_keeps_metas_code_as_the_reason()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        var (readWamid, failedWamid) = (MetaWebhooks.NewWamid(), MetaWebhooks.NewWamid());
        var read = await SentAsync(instance, "read me", readWamid);
        var failed = await SentAsync(instance, "too late", failedWamid);

        await PostOkAsync(instance, meta, MetaWebhooks.Statuses(instance.Number.PhoneNumberId,
            MetaWebhooks.Status(readWamid, "sent", Sender), MetaWebhooks.Status(readWamid, "delivered", Sender)));
        await instance.Client.WaitForMessageAsync(read.WaMessageId, m => m["status"]!.GetValue<string>() == "delivered", 30);
        await PostOkAsync(instance, meta, MetaWebhooks.Statuses(instance.Number.PhoneNumberId, MetaWebhooks.Status(readWamid, "read", Sender)));
        await PostOkAsync(instance, meta, MetaWebhooks.Statuses(instance.Number.PhoneNumberId,
            MetaWebhooks.Failed(failedWamid, Sender, 131047, "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")));

        var readRecord = await instance.Client.WaitForMessageAsync(read.WaMessageId, m => m["status"]!.GetValue<string>() == "read", 30);
        Assert.Equal(3, readRecord["ack"]!.GetValue<int>());
        var failedRecord = await instance.Client.WaitForMessageAsync(failed.WaMessageId, m => m["status"]!.GetValue<string>() == "failed", 30);
        Assert.Equal("template_required", failedRecord["error_code"]!.GetValue<string>());
        Assert.EndsWith("(Meta error 131047)", failedRecord["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("24 hours", failedRecord["error"]!.GetValue<string>(), StringComparison.Ordinal);

        var acks = Events(await receiver.WaitForAsync(r => Events(r, "message.ack").Count() >= 4, 30), "message.ack")
            .Select(e => (e["data"]!["id"]!.GetValue<string>(), e["data"]!["ack"]!.GetValue<int>())).ToList();
        Assert.Contains((read.SerializedId, 3), acks);
        Assert.Contains((failed.SerializedId, -1), acks);
    }

    [Fact]
    public async Task A_message_sent_through_the_api_is_moved_by_metas_statuses_for_the_wamid_graph_answered()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        // The customer wrote first: the reply is inside the 24-hour window.
        await PostOkAsync(instance, meta, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text(Sender, "Is my order ready?")));
        await MessagesAsync(receiver, 1);
        var sent = (await instance.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = instance.Code, to_number = Sender, message = "Your order is ready", wait = 15 })).EnsureOk().Message!;
        Assert.Equal("sent", sent["status"]!.GetValue<string>());
        var id = sent["id"]!.GetValue<string>();
        var row = await InDbAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.InstanceId == instance.Id && (m.SerializedId == id || m.WaMessageId == id), Ct));
        Assert.StartsWith("wamid.", row.EngineMessageId, StringComparison.Ordinal);
        Assert.NotEqual(row.EngineMessageId, row.WaMessageId);

        await PostOkAsync(instance, meta, MetaWebhooks.Statuses(instance.Number.PhoneNumberId,
            MetaWebhooks.Status(row.EngineMessageId!, "delivered", Sender), MetaWebhooks.Status(row.EngineMessageId!, "read", Sender)));

        var record = await instance.Client.WaitForMessageAsync(id, m => m["status"]!.GetValue<string>() == "read", 30);
        Assert.Equal(id, record["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_status_that_overtakes_the_recorded_wamid_waits_for_it_and_then_applies()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        var wamid = MetaWebhooks.NewWamid();
        // Graph answered the send, Meta already told "delivered", the outbox has not stored the wamid yet.
        var message = await SentAsync(instance, "fast recipient", null);

        await PostOkAsync(instance, meta, MetaWebhooks.Statuses(instance.Number.PhoneNumberId, MetaWebhooks.Status(wamid, "delivered", Sender)));
        await WaitUntilAsync(async () => (await CallbacksAsync(instance.Id)).Single().Attempts >= 1, "the status was not tried");
        var waiting = (await CallbacksAsync(instance.Id)).Single();
        Assert.Null(waiting.ProcessedAt);
        Assert.Contains("not recorded yet", waiting.LastError, StringComparison.Ordinal);

        await InDbAsync(db => db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.EngineMessageId, wamid), Ct));

        await instance.Client.WaitForMessageAsync(message.WaMessageId, m => m["status"]!.GetValue<string>() == "delivered", 30);
        await WaitUntilAsync(async () => (await CallbacksAsync(instance.Id)).Single().ProcessedAt is not null, "the callback was never finished");
    }

    [Fact]
    public async Task A_callback_meta_sends_again_stores_and_announces_its_message_once()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        var wamid = MetaWebhooks.NewWamid();
        var payload = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text(Sender, "once only", wamid));
        // A wamid longer than our id columns is still one message (stored under a stable id of it).
        var longWamid = "wamid.HBgNNTUxMTk5ODg3NzY2NhUCABIYIDI0QjY2RjQ1RjIxRTYzNzk2MTBDRDM2QkUz" + Guid.NewGuid().ToString("N");
        var longPayload = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text(Sender, "long id", longWamid));

        await PostOkAsync(instance, meta, payload);
        await PostOkAsync(instance, meta, longPayload);
        await MessagesAsync(receiver, 2);
        // Meta's retry of a callback is the same bytes: answered 200, stored once. The same message in a callback
        // that differs elsewhere (the contact renamed meanwhile) is stored and processed, and still one message.
        await PostOkAsync(instance, meta, payload);
        await PostOkAsync(instance, meta, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha K.", MetaWebhooks.Text(Sender, "long id", longWamid)));
        await WaitUntilAsync(async () => (await CallbacksAsync(instance.Id)).Count(c => c.ProcessedAt is not null) == 3, "the repeated callbacks were never processed");
        await Task.Delay(1000, Ct);
        Assert.Equal(3, (await CallbacksAsync(instance.Id)).Count);

        Assert.Equal(2, Events(receiver.Received, "message").Count());
        var rows = await InDbAsync(db => db.Messages.AsNoTracking().Where(m => m.InstanceId == instance.Id && m.Direction == Message.Inbound)
            .Select(m => new { m.WaMessageId, m.EngineMessageId, m.Body }).ToListAsync(Ct));
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r.WaMessageId == wamid && r.EngineMessageId == null);
        var longRow = rows.Single(r => r.Body == "long id");
        Assert.Equal(longWamid, longRow.EngineMessageId);
        Assert.True(longRow.WaMessageId.Length <= CloudApiWebhookMapper.MaxIdLength);
    }

    [Fact]
    public async Task A_status_callback_meta_sends_again_announces_the_status_once()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync();
        await using var _ = receiver;
        using var meta = app.CreateApiClient();
        var wamid = MetaWebhooks.NewWamid();
        var message = await SentAsync(instance, "sent once", wamid);
        var sentStatus = MetaWebhooks.Statuses(instance.Number.PhoneNumberId, MetaWebhooks.Status(wamid, "sent", Sender));

        await PostOkAsync(instance, meta, sentStatus);
        await PostOkAsync(instance, meta, sentStatus);
        await PostOkAsync(instance, meta, MetaWebhooks.Statuses(instance.Number.PhoneNumberId, MetaWebhooks.Status(wamid, "delivered", Sender)));
        await receiver.WaitForAsync(r => Events(r, "message.ack").Any(e => e["data"]!["ack"]!.GetValue<int>() == 2), 30);
        await WaitUntilAsync(async () => (await CallbacksAsync(instance.Id)).All(c => c.ProcessedAt is not null), "the callbacks were never processed");
        await Task.Delay(1000, Ct);

        Assert.Equal(2, (await CallbacksAsync(instance.Id)).Count);
        var acks = Events(receiver.Received, "message.ack").Where(e => e["data"]!["id"]!.GetValue<string>() == message.SerializedId)
            .Select(e => e["data"]!["ack"]!.GetValue<int>()).ToList();
        Assert.Equal([1, 2], acks.Order());
    }

    [Fact]
    public async Task Callbacks_that_came_while_the_instance_was_offline_are_processed_once_it_connects()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await ConnectedAsync(open: false);
        await using var _ = receiver;
        using var meta = app.CreateApiClient();

        await PostOkAsync(instance, meta, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text(Sender, "are you there?")));
        await Task.Delay(CloudApiCallbackSweep.Interval + TimeSpan.FromSeconds(1), Ct);
        Assert.Null((await CallbacksAsync(instance.Id)).Single().ProcessedAt);
        Assert.Empty(Events(receiver.Received, "message"));

        await CloudApiInboundInstances.OpenAsync(app, instance);

        var message = Assert.Single(await MessagesAsync(receiver, 1));
        Assert.Equal("are you there?", message["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_callback_that_keeps_failing_is_tried_again_on_its_schedule_then_given_up_with_its_error_kept()
    {
        app.SkipIfUnavailable();
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        // Credentials nobody can read: every attempt fails.
        await InDbAsync(db => db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.EngineCredentials, (string?)null), Ct));
        var body = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, null, MetaWebhooks.Text(Sender, "x")).ToJsonString();
        var now = DateTimeOffset.UtcNow;
        var (fresh, lastTry, notDue) = (new CloudApiCallback { InstanceId = instance.Id, Body = body, ReceivedAt = now },
            new CloudApiCallback { InstanceId = instance.Id, Body = body, ReceivedAt = now - TimeSpan.FromHours(25), Attempts = CloudApiCallbackProcessor.MaxAttempts - 1 },
            new CloudApiCallback { InstanceId = instance.Id, Body = body, ReceivedAt = now, Attempts = 3 });
        await InDbAsync(async db =>
        {
            db.CloudApiCallbacks.AddRange(fresh, lastTry, notDue);
            return await db.SaveChangesAsync(Ct);
        });
        var sink = new RecordingSink();

        await app.Services.GetRequiredService<CloudApiCallbackProcessor>().ProcessAsync(instance.Id, instance.Code, sink, Ct);

        var rows = (await CallbacksAsync(instance.Id)).ToDictionary(c => c.Id);
        Assert.Equal((1, (DateTimeOffset?)null), (rows[fresh.Id].Attempts, rows[fresh.Id].ProcessedAt));
        Assert.Contains("credentials", rows[fresh.Id].LastError, StringComparison.Ordinal);
        Assert.Equal(CloudApiCallbackProcessor.MaxAttempts, rows[lastTry.Id].Attempts);
        Assert.NotNull(rows[lastTry.Id].ProcessedAt);
        Assert.Contains("credentials", rows[lastTry.Id].LastError, StringComparison.Ordinal);
        Assert.Equal((3, (string?)null), (rows[notDue.Id].Attempts, rows[notDue.Id].LastError));
        Assert.Empty(sink.Events);

        Assert.Equal(rows[fresh.Id].ReceivedAt + TimeSpan.FromSeconds(2), CloudApiCallbackProcessor.DueAt(rows[fresh.Id]));
        Assert.Equal(now + TimeSpan.FromSeconds(10), CloudApiCallbackProcessor.DueAt(notDue));
        Assert.True(CloudApiCallbackProcessor.DueAt(new CloudApiCallback { Body = "", ReceivedAt = now, Attempts = 10 }) >= now + CloudApiCallbackProcessor.StatusPatience);
    }

    [Fact]
    public async Task A_signed_callback_that_is_not_json_is_dropped_at_once_with_the_reason_and_nothing_happens()
    {
        app.SkipIfUnavailable();
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        using var meta = app.CreateApiClient();
        Assert.True((await MetaWebhooks.PostRawAsync(meta, instance.Code, instance.Number.AppSecret, "{\"entry\": [oops")).IsSuccessStatusCode);
        var sink = new RecordingSink();

        await app.Services.GetRequiredService<CloudApiCallbackProcessor>().ProcessAsync(instance.Id, instance.Code, sink, Ct);

        var row = (await CallbacksAsync(instance.Id)).Single();
        Assert.NotNull(row.ProcessedAt);
        Assert.StartsWith("not JSON", row.LastError, StringComparison.Ordinal);
        Assert.Empty(sink.Events);
    }

    /// <summary>What the processor hands a session, kept (for the processor's own bookkeeping; the real sink is tested above).</summary>
    private sealed class RecordingSink : WapBridge.Core.Engines.IEngineEventSink
    {
        public List<WapBridge.Core.Engines.EngineEvent> Events { get; } = [];

        public ValueTask OnEventAsync(WapBridge.Core.Engines.EngineEvent engineEvent, CancellationToken ct = default)
        {
            Events.Add(engineEvent);
            return ValueTask.CompletedTask;
        }
    }
}

public sealed class SqliteCloudApiCallbackProcessingTests(SqliteCloudApiApp app) : CloudApiCallbackProcessingTests(app), IClassFixture<SqliteCloudApiApp>;

public sealed class PostgresCloudApiCallbackProcessingTests(PostgresCloudApiApp app) : CloudApiCallbackProcessingTests(app), IClassFixture<PostgresCloudApiApp>;
