using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Messaging;
using WapBridge.Tests.Engines.Simulator;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>The Cloud API session against the fake Graph on loopback: connect, every send kind and its exact body, the retry rules.</summary>
[Trait("Category", "Unit")]
public sealed class CloudApiSessionTests : IAsyncLifetime
{
    private static readonly FakeGraphNumber Number = FakeGraph.DefaultNumber;
    private const string To = "255712345678";

    private FakeGraph _graph = null!;
    private FlakyConnector _connector = null!;
    private GraphClient _client = null!;
    private CloudApiEngine _engine = null!;
    private readonly SimulatorHarness.RecordingSink _sink = new();
    private readonly SimulatorHarness.MemoryCredentials _credentials = new() { Value = Number.Credentials.ToJson() };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _connector = new FlakyConnector();
        _client = Client(TimeSpan.FromSeconds(5));
        _engine = new CloudApiEngine(_client, Limiter(), TimeProvider.System, NullLogger<CloudApiEngine>.Instance)
        {
            RetryBackoff = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)],
        };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _graph.DisposeAsync();
    }

    private GraphClient Client(TimeSpan timeout) =>
        new(Options.Create(new CloudApiOptions { GraphBaseUrl = _graph.BaseUrl, RequestTimeout = timeout }), _connector, TimeProvider.System);

    private static GraphSendLimiter Limiter() => new(Options.Create(new CloudApiOptions()), TimeProvider.System);

    private IEngineSession Open(CloudApiEngine? engine = null) =>
        (engine ?? _engine).CreateSession(new EngineSessionContext("INST-01-0000001", _sink, _credentials));

    private async Task<IEngineSession> ConnectedAsync()
    {
        var session = Open();
        await session.ConnectAsync(Ct);
        Assert.Single(_sink.Of<ConnectedEvent>());
        return session;
    }

    /// <summary>The one send Graph got, checked whole: the fields every message has, plus the kind's own.</summary>
    private JsonObject SingleSend()
    {
        var send = Assert.Single(_graph.Sends);
        Assert.Equal($"/v23.0/{Number.PhoneNumberId}/messages", send.Path);
        Assert.Equal($"Bearer {Number.AccessToken}", send.Header("Authorization"));
        Assert.StartsWith("application/json", send.Header("Content-Type"), StringComparison.Ordinal);
        return send.Json!;
    }

    /// <summary>A send's expected body: the fields every message has, and <paramref name="kind"/>'s.</summary>
    private static string Sent(string kind)
    {
        var expected = new JsonObject { ["messaging_product"] = "whatsapp", ["recipient_type"] = "individual", ["to"] = To };
        foreach (var (name, value) in JsonNode.Parse(kind)!.AsObject())
            expected[name] = value?.DeepClone();
        return expected.ToJsonString();
    }

    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\n but Graph got {actual.ToJsonString()}");

    [Fact]
    public void The_engine_offers_what_graph_offers_and_nothing_else()
    {
        Assert.Equal("cloudapi", _engine.Name);
        Assert.Null(_engine.UnavailableReason);
        Assert.False(_engine.SupportsPairingCode);
        string[] offered = [EngineFeatures.Replies, EngineFeatures.Reactions, EngineFeatures.Locations, EngineFeatures.Contacts,
            EngineFeatures.ReadReceipts, EngineFeatures.Templates, EngineFeatures.ServiceWindow];
        string[] missing = [EngineFeatures.Mentions, EngineFeatures.Polls, EngineFeatures.Edits, EngineFeatures.DeleteForEveryone,
            EngineFeatures.DeleteForMe, EngineFeatures.Presence, EngineFeatures.Profiles, EngineFeatures.Groups];
        Assert.All(offered, f => Assert.True(_engine.Supports(f), f));
        Assert.All(missing, f => Assert.False(_engine.Supports(f), f));
        Assert.IsAssignableFrom<IEngineTemplates>(Open());
    }

    [Fact]
    public async Task Connect_asks_graph_for_the_number_and_connects_as_its_digits_and_verified_name()
    {
        await ConnectedAsync();

        var connected = Assert.Single(_sink.Of<ConnectedEvent>());
        Assert.Equal("255700000111", connected.PhoneNumber);
        Assert.Equal("Duka Test", connected.PushName);
        Assert.Empty(_sink.Of<DisconnectedEvent>());
    }

    [Fact]
    public async Task Connect_with_a_refused_token_disconnects_for_good_and_says_to_update_it()
    {
        _credentials.Value = (Number.Credentials with { AccessToken = "EAAG-revoked" }).ToJson();

        await Open().ConnectAsync(Ct);

        var disconnected = Assert.Single(_sink.Of<DisconnectedEvent>());
        Assert.False(disconnected.Transient);
        Assert.Contains("access token was refused", disconnected.Reason, StringComparison.Ordinal);
        Assert.Contains("update it", disconnected.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("EAAG-revoked", disconnected.Reason + disconnected.Detail, StringComparison.Ordinal);
        Assert.Empty(_sink.Of<ConnectedEvent>());
    }

    [Fact]
    public async Task Connect_when_graph_cannot_be_reached_disconnects_transiently()
    {
        _connector.FailConnects = int.MaxValue;

        await Open().ConnectAsync(Ct);

        var disconnected = Assert.Single(_sink.Of<DisconnectedEvent>());
        Assert.True(disconnected.Transient);
        Assert.Contains("could not be reached", disconnected.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, 1, true)]
    [InlineData(429, 130429, true)]
    [InlineData(400, 100, false)]
    public async Task Connect_when_graph_fails_for_the_number_is_transient_only_for_a_5xx_or_throttling(int status, int metaCode, bool transient)
    {
        _graph.FailNextLookup(1, status, metaCode);

        await Open().ConnectAsync(Ct);

        var disconnected = Assert.Single(_sink.Of<DisconnectedEvent>());
        Assert.Equal(transient, disconnected.Transient);
        if (!transient)
            Assert.Contains($"phone number id {Number.PhoneNumberId}", disconnected.Reason, StringComparison.Ordinal);
        Assert.Empty(_sink.Of<ConnectedEvent>());
    }

    [Fact]
    public async Task Connect_without_credentials_disconnects_for_good()
    {
        _credentials.Value = null;

        await Open().ConnectAsync(Ct);

        var disconnected = Assert.Single(_sink.Of<DisconnectedEvent>());
        Assert.False(disconnected.Transient);
        Assert.StartsWith("Cloud API credentials missing", disconnected.Reason, StringComparison.Ordinal);
        Assert.Empty(_graph.Requests);
    }

    [Fact]
    public async Task Text_is_sent_with_the_wamid_answered_and_a_link_preview_only_with_a_link()
    {
        var session = await ConnectedAsync();

        var result = await session.SendAsync(new OutgoingMessage("3EB0AA", To, "Habari"), Ct);
        var linked = await session.SendAsync(new OutgoingMessage("3EB0AB", "+" + To, "See https://duka.invalid/o/1"), Ct);

        Assert.True(result.Accepted);
        Assert.StartsWith("wamid.", result.EngineMessageId, StringComparison.Ordinal);
        Assert.NotEqual(result.EngineMessageId, linked.EngineMessageId);
        AssertJson(Sent("""{"type":"text","text":{"preview_url":false,"body":"Habari"}}"""),
            _graph.Sends[0].Json!);
        AssertJson(Sent("""{"type":"text","text":{"preview_url":true,"body":"See https://duka.invalid/o/1"}}"""),
            _graph.Sends[1].Json!);
    }

    [Fact]
    public async Task A_reply_names_the_quoted_wamid_as_context()
    {
        var session = await ConnectedAsync();
        var quoted = new EngineQuote(new EngineMessageKey("wamid.QUOTED1", To + "@s.whatsapp.net", FromMe: false), "Order?");

        await session.SendAsync(new OutgoingMessage("3EB0AC", To, "Yes, ready") { Quoted = quoted }, Ct);

        AssertJson(Sent("""{"context":{"message_id":"wamid.QUOTED1"},"type":"text","text":{"preview_url":false,"body":"Yes, ready"}}"""),
            SingleSend());
    }

    [Fact]
    public async Task Reaction_location_and_contacts_have_graphs_shapes()
    {
        var session = await ConnectedAsync();
        var target = new EngineMessageKey("wamid.TARGET", To + "@s.whatsapp.net", FromMe: false);

        await session.SendAsync(new OutgoingMessage("3EB0B1", To, null) { Content = new OutgoingReaction(target, "👍") }, Ct);
        await session.SendAsync(new OutgoingMessage("3EB0B2", To, null) { Content = new OutgoingLocation(-6.8, 39.28, "Duka", "Kariakoo") }, Ct);
        await session.SendAsync(new OutgoingMessage("3EB0B3", To, null) { Content = new OutgoingLocation(1.5, 2.25, null, null) }, Ct);
        await session.SendAsync(new OutgoingMessage("3EB0B4", To, null)
        {
            Content = new OutgoingContacts([new OutgoingContact("Asha Juma", "+255 711 000 001"), new OutgoingContact("Baraka", "255711000002")]),
        }, Ct);
        await session.SendAsync(new OutgoingMessage("3EB0B5", To, null) { Content = new OutgoingReaction(target, "") }, Ct);

        var sends = _graph.Sends;
        AssertJson(Sent("""{"type":"reaction","reaction":{"message_id":"wamid.TARGET","emoji":"👍"}}"""), sends[0].Json!);
        AssertJson(Sent("""{"type":"location","location":{"latitude":-6.8,"longitude":39.28,"name":"Duka","address":"Kariakoo"}}"""), sends[1].Json!);
        AssertJson(Sent("""{"type":"location","location":{"latitude":1.5,"longitude":2.25}}"""), sends[2].Json!);
        AssertJson(Sent("""{"type":"contacts","contacts":[{"name":{"formatted_name":"Asha Juma","first_name":"Asha Juma"},"phones":[{"phone":"+255711000001","type":"CELL","wa_id":"255711000001"}]},{"name":{"formatted_name":"Baraka","first_name":"Baraka"},"phones":[{"phone":"+255711000002","type":"CELL","wa_id":"255711000002"}]}]}"""), sends[3].Json!);
        AssertJson(Sent("""{"type":"reaction","reaction":{"message_id":"wamid.TARGET","emoji":""}}"""), sends[4].Json!);
    }

    [Fact]
    public async Task A_template_is_sent_with_its_language_and_components()
    {
        var session = await ConnectedAsync();
        const string components = """[{"type":"body","parameters":[{"type":"text","text":"Asha"},{"type":"text","text":"A-17"}]}]""";

        var result = await session.SendAsync(new OutgoingMessage("3EB0C1", To, null) { Content = new OutgoingTemplate("order_ready", "sw", components) }, Ct);
        await session.SendAsync(new OutgoingMessage("3EB0C2", To, null) { Content = new OutgoingTemplate("hello_world", "en_US", null) }, Ct);

        Assert.True(result.Accepted);
        AssertJson(Sent("""{"type":"template","template":{"name":"order_ready","language":{"code":"sw"},"components":COMPONENTS}}""".Replace("COMPONENTS", components, StringComparison.Ordinal)), _graph.Sends[0].Json!);
        AssertJson(Sent("""{"type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}"""), _graph.Sends[1].Json!);
    }

    [Fact]
    public async Task An_image_is_uploaded_then_sent_by_id_with_its_caption()
    {
        var session = await ConnectedAsync();
        var bytes = Encoding.ASCII.GetBytes("\u00ff\u00d8 a jpeg, as far as Graph can tell");

        var result = await session.SendAsync(new OutgoingMessage("3EB0D1", To, null, new EngineMedia(bytes, "image/jpeg", "shelf.jpg"), "New stock"), Ct);

        Assert.True(result.Accepted);
        var upload = Assert.Single(_graph.Requests, r => r.Path.EndsWith("/media", StringComparison.Ordinal));
        Assert.Equal($"/v23.0/{Number.PhoneNumberId}/media", upload.Path);
        Assert.StartsWith("multipart/form-data", upload.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal($"Bearer {Number.AccessToken}", upload.Header("Authorization"));
        Assert.Contains("messaging_product=whatsapp", upload.Body, StringComparison.Ordinal);
        Assert.Contains("type=image/jpeg", upload.Body, StringComparison.Ordinal);
        var mediaId = _graph.Sends[0].Json!["image"]!["id"]!.GetValue<string>();
        Assert.Equal(bytes, _graph.Media(mediaId)!.Data);
        Assert.Equal("image/jpeg", _graph.Media(mediaId)!.MimeType);
        AssertJson(Sent("""{"type":"image","image":{"id":"MEDIA_ID","caption":"New stock"}}""").Replace("MEDIA_ID", mediaId, StringComparison.Ordinal),
            SingleSend());
    }

    [Fact]
    public async Task A_document_keeps_its_file_name_and_a_file_graph_has_no_kind_for_goes_as_one()
    {
        var session = await ConnectedAsync();
        var pdf = new EngineMedia(Encoding.ASCII.GetBytes("%PDF-1.7 invoice"), "application/pdf", "invoice-17.pdf");
        var gif = new EngineMedia([0x47, 0x49, 0x46], "image/gif", "dance.gif");

        await session.SendAsync(new OutgoingMessage("3EB0D2", To, null, pdf, "Your invoice"), Ct);
        await session.SendAsync(new OutgoingMessage("3EB0D3", To, null, gif), Ct);

        var first = _graph.Sends[0].Json!;
        var pdfId = first["document"]!["id"]!.GetValue<string>();
        AssertJson(Sent("""{"type":"document","document":{"id":"MEDIA_ID","caption":"Your invoice","filename":"invoice-17.pdf"}}""").Replace("MEDIA_ID", pdfId, StringComparison.Ordinal),
            first);
        Assert.Equal("invoice-17.pdf", _graph.Media(pdfId)!.FileName);
        Assert.Equal("dance.gif", _graph.Sends[1].Json!["document"]!["filename"]!.GetValue<string>());
        Assert.Equal(2, _graph.Requests.Count(r => r.Path.EndsWith("/media", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("image/jpeg", "image")]
    [InlineData("image/png", "image")]
    [InlineData("image/webp", "sticker")]
    [InlineData("video/mp4", "video")]
    [InlineData("audio/ogg; codecs=opus", "audio")]
    [InlineData("audio/mpeg", "audio")]
    [InlineData("image/gif", "document")]
    [InlineData("video/quicktime", "document")]
    [InlineData("application/zip", "document")]
    public void Media_kinds_follow_what_graph_accepts(string mimeType, string kind) =>
        Assert.Equal(kind, CloudApiSession.MediaKind(mimeType));

    [Fact]
    public async Task Mentions_groups_and_polls_are_features_graph_does_not_have()
    {
        var session = await ConnectedAsync();

        var mention = await Assert.ThrowsAsync<EngineFeatureUnavailableException>(() =>
            session.SendAsync(new OutgoingMessage("3EB0E1", To, "@255711000001 hi") { Mentions = ["255711000001@s.whatsapp.net"] }, Ct));
        var group = await Assert.ThrowsAsync<EngineFeatureUnavailableException>(() =>
            session.SendAsync(new OutgoingMessage("3EB0E2", "120363000000000001@g.us", "hi all"), Ct));
        var poll = await Assert.ThrowsAsync<EngineFeatureUnavailableException>(() =>
            session.SendAsync(new OutgoingMessage("3EB0E3", To, null) { Content = new OutgoingPoll("Lunch?", ["Yes", "No"], 1) }, Ct));

        Assert.Equal((EngineFeatures.Mentions, EngineFeatures.Groups, EngineFeatures.Polls), (mention.Feature, group.Feature, poll.Feature));
        Assert.Empty(_graph.Sends);
    }

    [Fact]
    public async Task A_refusal_fails_with_our_reason_and_metas_words_and_code()
    {
        var session = await ConnectedAsync();
        _graph.FailNext(1, 400, 131047);

        var result = await session.SendAsync(new OutgoingMessage("3EB0F1", To, "Hello again"), Ct);

        Assert.False(result.Accepted);
        Assert.Equal(GraphErrorCodes.TemplateRequired, result.ErrorCode);
        Assert.Contains("Re-engagement message", result.Error, StringComparison.Ordinal);
        Assert.EndsWith("(Meta error 131047)", result.Error, StringComparison.Ordinal);
        Assert.Single(_graph.Sends);
        Assert.Equal(SendFailureAction.Fail, SendFailurePolicy.Decide(result.ErrorCode).Action);
    }

    [Theory]
    [InlineData(429, null)]
    [InlineData(400, 130429)]
    [InlineData(429, 80007)]
    public async Task A_throttled_send_is_tried_again_and_goes_out_once(int status, int? metaCode)
    {
        var session = await ConnectedAsync();
        _graph.FailNext(2, status, metaCode);

        var result = await session.SendAsync(new OutgoingMessage("3EB0F2", To, "Busy day"), Ct);

        Assert.True(result.Accepted);
        Assert.Equal(3, _graph.Sends.Count);
        Assert.All(_graph.Sends, s => Assert.Equal("Busy day", s.Json!["text"]!["body"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Graphs_retry_after_is_waited_for()
    {
        var session = await ConnectedAsync();
        _graph.FailNext(1, 429, 130429, retryAfter: TimeSpan.FromSeconds(1));
        var started = TimeProvider.System.GetTimestamp();

        var result = await session.SendAsync(new OutgoingMessage("3EB0F3", To, "Patience"), Ct);

        Assert.True(result.Accepted);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(900), "the second try came before Retry-After");
        Assert.Equal(2, _graph.Sends.Count);
    }

    [Fact]
    public async Task Throttled_past_the_retries_fails_as_throttled_which_the_outbox_queues_again()
    {
        var session = await ConnectedAsync();
        _graph.FailNext(10, 429, 130429);

        var result = await session.SendAsync(new OutgoingMessage("3EB0F4", To, "Later"), Ct);

        Assert.False(result.Accepted);
        Assert.Equal(GraphErrorCodes.Throttled, result.ErrorCode);
        Assert.Equal(4, _graph.Sends.Count);
        Assert.Equal(SendFailureAction.Retry, SendFailurePolicy.Decide(result.ErrorCode).Action);
    }

    [Theory]
    [InlineData(500, 131000)]
    [InlineData(503, null)]
    public async Task A_5xx_is_not_repeated_and_fails_saying_it_may_have_reached_whatsapp(int status, int? metaCode)
    {
        var session = await ConnectedAsync();
        _graph.FailNext(1, status, metaCode);

        var result = await session.SendAsync(new OutgoingMessage("3EB0F5", To, "Once only"), Ct);

        Assert.False(result.Accepted);
        Assert.Equal(GraphErrorCodes.Unconfirmed, result.ErrorCode);
        Assert.Contains("may or may not have reached WhatsApp", result.Error, StringComparison.Ordinal);
        Assert.Contains("not sent again to avoid a duplicate", result.Error, StringComparison.Ordinal);
        Assert.Single(_graph.Sends);
        Assert.Equal(SendFailureAction.Fail, SendFailurePolicy.Decide(result.ErrorCode).Action);
    }

    [Fact]
    public async Task A_timeout_after_the_request_left_is_not_repeated()
    {
        using var impatient = Client(TimeSpan.FromMilliseconds(300));
        var engine = new CloudApiEngine(impatient, Limiter(), TimeProvider.System, NullLogger<CloudApiEngine>.Instance)
        {
            RetryBackoff = [TimeSpan.FromMilliseconds(10)],
        };
        var session = Open(engine);
        await session.ConnectAsync(Ct);
        _graph.DelayNext(1, TimeSpan.FromSeconds(3));

        var result = await session.SendAsync(new OutgoingMessage("3EB0F6", To, "Slow"), Ct);

        Assert.Equal(GraphErrorCodes.Unconfirmed, result.ErrorCode);
        Assert.Contains("did not answer in time", result.Error, StringComparison.Ordinal);
        Assert.Single(_graph.Sends);
    }

    [Fact]
    public async Task A_connection_that_never_opened_is_tried_again_since_nothing_reached_graph()
    {
        var session = await ConnectedAsync();
        _graph.CloseConnections = true;
        // The connect's kept-alive connection goes with this answer: the next send has to open a new one.
        _ = await session.SendAsync(new OutgoingMessage("3EB0F7", To, "warm-up"), Ct);
        _connector.FailConnects = 2;

        var result = await session.SendAsync(new OutgoingMessage("3EB0F8", To, "After a hiccup"), Ct);

        Assert.True(result.Accepted);
        Assert.Equal(2, _connector.Refused);
        Assert.Single(_graph.Sends, s => s.Json!["text"]!["body"]!.GetValue<string>() == "After a hiccup");
    }

    [Fact]
    public async Task Graph_unreachable_past_the_retries_fails_as_retryable_without_sending()
    {
        var session = await ConnectedAsync();
        _graph.CloseConnections = true;
        _ = await session.SendAsync(new OutgoingMessage("3EB0F9", To, "warm-up"), Ct);
        _connector.FailConnects = int.MaxValue;

        var result = await session.SendAsync(new OutgoingMessage("3EB0FA", To, "Nobody home"), Ct);

        Assert.Equal(GraphErrorCodes.Unreachable, result.ErrorCode);
        Assert.Equal(4, _connector.Refused);
        Assert.Equal(SendFailureAction.Retry, SendFailurePolicy.Decide(result.ErrorCode).Action);
        Assert.DoesNotContain(_graph.Sends, s => s.Json!["text"]!["body"]!.GetValue<string>() == "Nobody home");
    }

    [Fact]
    public async Task A_token_refused_while_sending_disconnects_and_keeps_the_message_queued()
    {
        var session = await ConnectedAsync();
        _graph.AddNumber(Number with { AccessToken = "EAAG-rotated" }); // the instance's token no longer matches

        var result = await session.SendAsync(new OutgoingMessage("3EB0FB", To, "Hello"), Ct);

        Assert.Equal("not_connected", result.ErrorCode);
        var disconnected = Assert.Single(_sink.Of<DisconnectedEvent>());
        Assert.False(disconnected.Transient);
        Assert.Contains("access token was refused", disconnected.Reason, StringComparison.Ordinal);
        Assert.Equal("not_connected", (await session.SendAsync(new OutgoingMessage("3EB0FC", To, "Again"), Ct)).ErrorCode);
    }

    [Fact]
    public async Task Mark_read_posts_a_read_status_per_received_message()
    {
        var session = await ConnectedAsync();

        await session.MarkReadAsync([new EngineMessageKey("wamid.IN1", To + "@s.whatsapp.net", false), new EngineMessageKey("wamid.IN2", To + "@s.whatsapp.net", false)], Ct);

        var reads = _graph.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(2, reads.Count);
        AssertJson("""{"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN1"}""", reads[0].Json!);
        AssertJson("""{"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN2"}""", reads[1].Json!);
        Assert.All(reads, r => Assert.Equal($"/v23.0/{Number.PhoneNumberId}/messages", r.Path));
    }

    [Fact]
    public async Task The_session_lists_the_accounts_templates()
    {
        _graph.Templates.Add(FakeGraph.Template("order_ready", "en", "Order {{1}} is ready"));
        var session = await ConnectedAsync();

        var templates = await ((IEngineTemplates)session).ListTemplatesAsync(Ct);

        var template = Assert.Single(templates);
        Assert.Equal(("order_ready", "en", "APPROVED", "UTILITY"), (template.Name, template.Language, template.Status, template.Category));
        Assert.Equal(["1"], template.Variables);
    }

    [Fact]
    public async Task Pairing_and_number_checks_are_not_how_the_cloud_api_works()
    {
        var session = await ConnectedAsync();

        await Assert.ThrowsAsync<EngineSessionStateException>(() => session.RequestPairingCodeAsync(To, Ct));
        Assert.Null(await session.CheckNumberAsync(To, Ct));
        Assert.False(session.ChecksNumbers);
    }

    /// <summary>The guard's connector, refusing the next <see cref="FailConnects"/> connections as a closed port does.</summary>
    private sealed class FlakyConnector : OutboundConnector
    {
        private readonly LoopbackOnlyConnector _guarded = new();
        private int _refused;

        public int FailConnects { get; set; }
        public int Refused => _refused;

        public override ValueTask<NetworkStream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken ct)
        {
            if (FailConnects > 0)
            {
                FailConnects--;
                Interlocked.Increment(ref _refused);
                throw new SocketException((int)SocketError.ConnectionRefused);
            }
            return _guarded.ConnectAsync(addresses, port, ct);
        }

        public override ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => _guarded.ResolveAsync(host, ct);
    }
}
