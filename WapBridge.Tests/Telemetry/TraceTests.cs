using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Telemetry;

/// <summary>
/// One trace from the API call through the outbox, the engine and the status webhook (and from an inbound message to its
/// webhook), kept on the rows so that it survives a restart, and visible in the log. Spans are caught in-process; the
/// listener hears every test's spans, so each test follows only the trace ids it started itself.
/// </summary>
public sealed class TraceTests
{
    private static readonly Dictionary<string, string?> WithWebhooks = FastWebhooks.Settings();

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task An_api_send_its_outbox_send_and_its_status_webhook_share_the_request_trace(string provider)
    {
        using var spans = new SpanCapture();
        await using var app = new TracingApp(provider, WithWebhooks);
        await app.InitializeAsync();
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        await using var receiver = await SubscribeAsync(sender, """["message.ack","message.sent"]""");

        var caller = NewCaller();
        var id = await SendAsync(sender, caller, "traced hello");

        // The request continued the caller's trace, and the accepted row keeps it.
        var traceId = caller.TraceId.ToHexString();
        var request = await spans.WaitForAsync(s => s.Source.Name == "Microsoft.AspNetCore" && s.ParentSpanId == caller.SpanId);
        Assert.Equal(traceId, request.TraceId.ToHexString());
        var record = await sender.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() is "delivered" or "read");
        Assert.Equal(traceId, record["trace_id"]!.GetValue<string>());

        // The outbox sent it in a child of the request, and the engine's send is a child of that.
        var send = await spans.WaitForAsync(s => s.OperationName == TraceNames.MessageSend && s.TraceId == caller.TraceId);
        Assert.Equal(request.SpanId, send.ParentSpanId);
        Assert.Equal(sender.InstanceId, send.GetTagItem(TraceNames.InstanceTag));
        Assert.Equal("sent", send.GetTagItem(TraceNames.OutcomeTag));
        var engine = await spans.WaitForAsync(s => s.OperationName == TraceNames.EngineSend && s.ParentSpanId == send.SpanId);
        Assert.Equal("simulator", engine.GetTagItem(TraceNames.EngineTag));
        Assert.DoesNotContain(send.Tags.Concat(engine.Tags), t => t.Value?.Contains("traced hello", StringComparison.Ordinal) == true
            || t.Value?.Contains("255755123456", StringComparison.Ordinal) == true);

        // The receiver of the status webhooks is told the same trace (the traceparent header), by a POST made inside a
        // webhook.deliver span of it.
        var hooks = await receiver.WaitForAsync(r => r.Count(h => h.Body.Contains(id, StringComparison.Ordinal)) >= 2);
        var statusHooks = hooks.Where(h => h.Body.Contains(id, StringComparison.Ordinal)).ToList();
        Assert.All(statusHooks, h => Assert.Equal(traceId, WapBridgeTelemetry.TraceIdOf(h.Header("traceparent"))));
        var deliver = await spans.WaitForAsync(s => s.OperationName == TraceNames.WebhookDeliver && s.TraceId == caller.TraceId);
        Assert.Equal("delivered", deliver.GetTagItem(TraceNames.OutcomeTag));
        // The attempt ended, so its POST reached the receiver: its header names the attempt's HTTP call.
        Assert.Contains(receiver.Received, h => ActivityContext.TryParse(h.Header("traceparent"), null, out var parent)
            && spans.Stopped.Any(s => s.SpanId == parent.SpanId && (s.SpanId == deliver.SpanId || s.ParentSpanId == deliver.SpanId)));
    }

    [Fact]
    public async Task A_queued_message_keeps_its_trace_across_a_restart_before_it_is_sent()
    {
        using var spans = new SpanCapture();
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        var caller = NewCaller();
        await using var receiver = await WebhookReceiver.StartAsync();
        SendingCustomer sender;
        string id;

        // Throttled to one send per ~17 minutes: the first message goes out, the traced one waits in the outbox.
        await using (var first = new WapBridgeApp(settings: FastWebhooks.Settings(new Dictionary<string, string?>
            { ["WapBridge:Messaging:InstanceMessagesPerSecond"] = "0.001" }), dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            sender = await first.CreateConnectedAsync();
            (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook",
                new JsonObject { ["url"] = receiver.Url, ["events"] = JsonNode.Parse("""["message.sent"]""") })).EnsureOk();
            (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
                new { instance_id = sender.InstanceId, to_number = "255755123456", message = "first", wait = 10 })).EnsureOk();
            id = await SendAsync(sender, caller, "after the restart");
            Assert.Equal("queued", (await sender.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id })).EnsureOk().Message!["status"]!.GetValue<string>());
        }
        Assert.DoesNotContain(spans.Stopped, s => s.OperationName == TraceNames.MessageSend && s.TraceId == caller.TraceId);

        await using var second = new WapBridgeApp(settings: FastWebhooks.Settings(), dataDir: dataDir);
        await second.InitializeAsync();
        using var client = second.CreateApiClient(sender.Customer.TokenHeader);
        var record = await client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", seconds: 20);
        Assert.Equal(caller.TraceId.ToHexString(), record["trace_id"]!.GetValue<string>());

        var send = await spans.WaitForAsync(s => s.OperationName == TraceNames.MessageSend && s.TraceId == caller.TraceId);
        Assert.Equal("sent", send.GetTagItem(TraceNames.OutcomeTag));
        var hook = (await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains(id, StringComparison.Ordinal)), seconds: 20))
            .First(h => h.Body.Contains(id, StringComparison.Ordinal));
        Assert.Equal(caller.TraceId.ToHexString(), WapBridgeTelemetry.TraceIdOf(hook.Header("traceparent")));
    }

    [Fact]
    public async Task An_inbound_message_its_row_and_its_webhook_share_the_receive_trace()
    {
        using var spans = new SpanCapture();
        await using var app = new TracingApp("sqlite", WithWebhooks);
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();
        await using var receiver = await SubscribeAsync(sender, """["message"]""");

        var id = (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message",
            new { instance_id = sender.InstanceId, from_number = "255755123456", message = "Habari" })).EnsureOk().Message!["id"]!.GetValue<string>();

        var hook = (await receiver.WaitForAsync(r => r.Any(h => h.MessageId() == id))).First(h => h.MessageId() == id);
        var traceId = WapBridgeTelemetry.TraceIdOf(hook.Header("traceparent"));
        Assert.NotNull(traceId);
        var receive = await spans.WaitForAsync(s => s.OperationName == TraceNames.MessageReceive && s.TraceId.ToHexString() == traceId);
        Assert.Equal(sender.InstanceId, receive.GetTagItem(TraceNames.InstanceTag));
        Assert.Equal("stored", receive.GetTagItem(TraceNames.OutcomeTag));
        // A message from WhatsApp starts its own trace.
        Assert.Equal(default, receive.ParentSpanId);
        var record = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id })).EnsureOk().Message!;
        Assert.Equal(traceId, record["trace_id"]!.GetValue<string>());
        var deliver = await spans.WaitForAsync(s => s.OperationName == TraceNames.WebhookDeliver && s.TraceId.ToHexString() == traceId);
        Assert.Equal(receive.SpanId, deliver.ParentSpanId);
    }

    [Fact]
    public async Task A_log_written_inside_message_send_carries_its_trace_id()
    {
        using var spans = new SpanCapture();
        await using var app = new TracingApp("sqlite", FastMessaging.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();

        var caller = NewCaller();
        var id = await SendAsync(sender, caller, "logged");
        var send = await spans.WaitForAsync(s => s.OperationName == TraceNames.MessageSend && s.TraceId == caller.TraceId);

        var line = await app.Logs.WaitForAsync(l => l.Category == typeof(MessageDispatcher).FullName && l.Message.Contains(id, StringComparison.Ordinal));
        Assert.Equal(caller.TraceId.ToHexString(), line.TraceId);
        Assert.Equal(send.SpanId.ToHexString(), line.SpanId);

        // The console shows that scope (TraceId, SpanId) with each line; scopes are on in the shipped settings.
        Assert.True(app.Services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
    }

    [Fact]
    public async Task An_erpnext_gateway_send_and_its_outbox_send_share_the_request_trace()
    {
        using var spans = new SpanCapture();
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();
        var caller = NewCaller();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway",
            $"message=Invoice+due&instance_id={sender.InstanceId}&to_number=255755123456", "application/x-www-form-urlencoded",
            new Dictionary<string, string> { ["traceparent"] = TraceParentOf(caller) });
        var id = answer.EnsureOk().Message!["service"]!["id"]!.GetValue<string>();

        var record = await sender.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() != "queued");
        Assert.Equal(caller.TraceId.ToHexString(), record["trace_id"]!.GetValue<string>());
        Assert.Equal("sent", (await spans.WaitForAsync(s => s.OperationName == TraceNames.MessageSend && s.TraceId == caller.TraceId)).GetTagItem(TraceNames.OutcomeTag));
    }

    [Fact]
    public async Task A_campaigns_messages_are_sent_in_the_trace_of_the_batch_that_queued_them_not_the_request_that_started_it()
    {
        using var spans = new SpanCapture();
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
            ["WapBridge:Hangfire:WorkerCount"] = "2",
        }));
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();
        var caller = NewCaller();

        using var start = new HttpRequestMessage(HttpMethod.Post, "/api/method/wap_bridge.api.campaigns.create_and_start_campaign")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new
            {
                instance_id = sender.InstanceId, message = "Sale today",
                recipients = new[] { "255757000001", "255757000002" },
                throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
            }),
        };
        start.Headers.Add("traceparent", TraceParentOf(caller));
        var campaign = (await sender.Client.SendForAnswerAsync(start)).EnsureOk().Message!["campaign"]!.GetValue<string>();

        // Every test host in this process numbers its campaigns from WAP-CAM-0001 and reports to the same listener: the
        // batch's trace is read from this host's message rows, which keep the trace that queued them.
        var traceIds = await CampaignMessageTracesAsync(app, campaign, 2);
        var traceId = Assert.Single(traceIds.Distinct());
        var batch = await spans.WaitForAsync(s => s.OperationName == TraceNames.CampaignSend && s.TraceId.ToHexString() == traceId, seconds: 30);
        Assert.NotEqual(caller.TraceId, batch.TraceId);
        Assert.Equal(campaign, batch.GetTagItem(TraceNames.CampaignTag));
        Assert.Equal(sender.InstanceId, batch.GetTagItem(TraceNames.InstanceTag));
        var sends = await spans.WaitForAsync(s => s.OperationName == TraceNames.MessageSend && s.TraceId == batch.TraceId, count: 2);
        Assert.All(sends, s => Assert.Equal(batch.SpanId, s.ParentSpanId));
        Assert.All(sends, s => Assert.True("sent".Equals(s.GetTagItem(TraceNames.OutcomeTag)),
            $"send of {s.GetTagItem(TraceNames.MessageTag)}: {s.GetTagItem(TraceNames.OutcomeTag)} ({s.GetTagItem(TraceNames.ErrorCodeTag)})"));
    }

    /// <summary>The trace ids the campaign's messages were queued in, once <paramref name="count"/> of them are sent.</summary>
    private static async Task<List<string>> CampaignMessageTracesAsync(WapBridgeApp app, string campaign, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
            {
                var rows = await db.Messages.AsNoTracking()
                    .Where(m => db.Campaigns.Any(c => c.Id == m.CampaignId && c.Code == campaign) 
                        && (m.Status == MessageStatus.Sent || m.Status == MessageStatus.Delivered || m.Status == MessageStatus.Read))
                    .Select(m => m.TraceParent).ToListAsync(TestContext.Current.CancellationToken);
                if (rows.Count >= count)
                    return rows.ConvertAll(t => t!.Split('-')[1]);
            }
            Assert.True(DateTime.UtcNow < deadline, $"the campaign's {count} messages were never sent");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_message_without_a_stored_trace_has_no_trace_id_field()
    {
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();
        var id = await SendAsync(sender, NewCaller(), "old");

        // As a message accepted before traces were kept.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
            await db.Messages.Where(m => m.SerializedId == id).ExecuteUpdateAsync(s => s.SetProperty(m => m.TraceParent, (string?)null), TestContext.Current.CancellationToken);

        var record = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id })).EnsureOk().Message!;
        Assert.False(record.AsObject().ContainsKey("trace_id"));
    }

    private static async Task<WebhookReceiver> SubscribeAsync(SendingCustomer sender, string events)
    {
        var receiver = await WebhookReceiver.StartAsync();
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook",
            new JsonObject { ["url"] = receiver.Url, ["events"] = JsonNode.Parse(events) })).EnsureOk();
        return receiver;
    }

    private static ActivityContext NewCaller() =>
        ActivityContext.Parse($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01", null);

    private static string TraceParentOf(ActivityContext caller) => $"00-{caller.TraceId.ToHexString()}-{caller.SpanId.ToHexString()}-01";

    /// <summary>Sends as a caller that is in trace <paramref name="caller"/> (its <c>traceparent</c> header).</summary>
    private static async Task<string> SendAsync(SendingCustomer sender, ActivityContext caller, string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.send_api_message")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { instance_id = sender.InstanceId, to_number = "255755123456", message = text }),
        };
        request.Headers.Add("traceparent", TraceParentOf(caller));
        return (await sender.Client.SendForAnswerAsync(request)).EnsureOk().Message!["id"]!.GetValue<string>();
    }
}

/// <summary>Every span of WapBridge, ASP.NET Core and HttpClient that ends while it listens, recorded.</summary>
public sealed class SpanCapture : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanCapture()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is WapBridgeTelemetry.Name or "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    public async Task<Activity> WaitForAsync(Func<Activity, bool> match, int seconds = 15) => (await WaitForAsync(match, 1, seconds))[0];

    public async Task<IReadOnlyList<Activity>> WaitForAsync(Func<Activity, bool> match, int count, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (_stopped.Where(match).ToList() is { } found && found.Count >= count)
                return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("no such span ended; ended: " + string.Join(", ", _stopped.Select(s => $"{s.OperationName} {s.TraceId}")));
            await Task.Delay(25);
        }
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>A gateway whose log lines a test reads with the trace and span they were written in (the logger's activity scope).</summary>
public sealed class TracingApp(string provider, IDictionary<string, string?> settings) : WapBridgeApp(provider, settings)
{
    public ScopedLogCapture Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddFilter(_ => true).AddProvider(Logs));
    }
}

public sealed record ScopedLog(string Category, string Message, string? TraceId, string? SpanId);

public sealed class ScopedLogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<ScopedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public async Task<ScopedLog> WaitForAsync(Func<ScopedLog, bool> match, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (_entries.FirstOrDefault(match) is { } found)
                return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("no such log line");
            await Task.Delay(25);
        }
    }

    public void Dispose() { }

    private sealed class Logger(string category, ScopedLogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string? traceId = null, spanId = null;
            owner._scopes.ForEachScope((scope, _) =>
            {
                if (scope is not IEnumerable<KeyValuePair<string, object?>> values)
                    return;
                foreach (var (key, value) in values)
                {
                    if (key == "TraceId") traceId = value?.ToString();
                    else if (key == "SpanId") spanId = value?.ToString();
                }
            }, (object?)null);
            owner._entries.Enqueue(new ScopedLog(category, formatter(state, exception), traceId, spanId));
        }
    }
}
