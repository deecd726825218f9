using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Components.Pages.Chats;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The Chats page's parts on the real node: the list (unread counts, previews), the thread (our ticks, quotes,
/// reactions), the composer (a reply goes out quoting its message, typing is told), and the page following the live feed.
/// </summary>
public sealed class ChatsPageTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System, configure: services =>
    {
        // The harness brings the send path's services; here the intake runs too, as in the server.
        services.AddHostedService(sp => sp.GetRequiredService<MessageIntake>());
        services.AddSingleton<ConversationService>();
        services.AddSingleton<ChatQueries>();
        // The thread links media.
        services.AddSingleton<IPublicUrls>(new LoopbackUrls());
        services.AddSingleton<MediaLinks>();
    });
    private Customer customer = default!;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => customer = await h.StartAsCustomerAsync("Chatty shop");

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private sealed class LoopbackUrls : IPublicUrls
    {
        public string BaseUrl => "http://127.0.0.1";
    }

    private Task<Instance> ConnectedAsync(string phone) => h.ConnectedAsync(customer.Id, phone, pushName: "Shop");

    private async Task<Message> InboundAsync(Instance instance, string from, string text, string? sender = null)
    {
        var waId = WhatsAppIds.NewMessageId();
        var row = new Message
        {
            CustomerId = instance.CustomerId, InstanceId = instance.Id, Direction = Message.Inbound, WaMessageId = waId,
            SerializedId = $"false_{from}@c.us_{waId}", FromNumber = from, ToNumber = instance.PhoneNumber, Chat = from, SenderName = sender,
            Type = "chat", Body = text, Status = MessageStatus.Received, Source = MessageSources.Inbound, CreatedAt = DateTimeOffset.UtcNow,
        };
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        db.Messages.Add(row);
        await db.SaveChangesAsync(Ct);
        return row;
    }

    private static ChatMessage Bubble(long id, string direction, string text, MessageStatus status, ChatQuote? quote = null, params ChatReaction[] reactions) =>
        new(id, $"id-{id}", $"WA{id}", direction, "chat", text, null, null, null, null, null, status, null, DateTimeOffset.UtcNow, "255711000001", null,
            quote, reactions, false, false);

    [Fact]
    public void The_list_shows_each_conversations_preview_name_and_unread_count()
    {
        var now = DateTimeOffset.UtcNow;
        IReadOnlyList<ChatSummary> chats =
        [
            new("WB-1", "255711000001", "Amina", 3, Message.Inbound, "chat", "Is it in stock?", MessageStatus.Received, now, 2),
            new("WB-1", "255711000002", null, 2, Message.Outbound, "image", "photo.jpg", MessageStatus.Read, now, 0),
        ];
        var cut = h.Render<ChatList>(b => b.AddAttribute(1, nameof(ChatList.Chats), chats));

        var items = cut.FindAll("[data-testid=chat-item]");
        Assert.Equal(2, items.Count);
        Assert.Contains("Amina (+255711000001)", items[0].TextContent);
        Assert.Equal("Is it in stock?", items[0].QuerySelector("[data-testid=chat-preview]")!.TextContent);
        Assert.Equal("2", items[0].QuerySelector("[data-testid=chat-unread]")!.TextContent);
        // Said, not only shown: a screen reader hears "2 unread".
        Assert.Contains("2 unread", System.Text.RegularExpressions.Regex.Replace(items[0].TextContent, @"\s+", " "));
        Assert.Null(items[1].QuerySelector("[data-testid=chat-unread]"));
        Assert.Equal("read", items[1].QuerySelector("[data-testid=chat-ticks]")!.GetAttribute("data-status"));
    }

    [Fact]
    public void The_thread_shows_our_ticks_the_quoted_message_and_reactions()
    {
        var thread = new ChatThread("WB-1", "255711000001",
        [
            Bubble(1, Message.Inbound, "Do you deliver?", MessageStatus.Received, null, new ChatReaction(Message.Outbound, null, "❤️")),
            Bubble(2, Message.Outbound, "Yes", MessageStatus.Sent, new ChatQuote("WA1", Message.Inbound, "chat", "Do you deliver?")),
            Bubble(3, Message.Outbound, "Tomorrow", MessageStatus.Delivered),
            Bubble(4, Message.Outbound, "By noon", MessageStatus.Read),
        ], false);
        var cut = h.Render<ChatThreadView>(b =>
        {
            b.AddAttribute(1, nameof(ChatThreadView.Thread), thread);
            b.AddAttribute(2, nameof(ChatThreadView.Title), "Amina");
        });

        var bubbles = cut.FindAll("[data-testid=chat-message]");
        Assert.Equal(4, bubbles.Count);
        Assert.Null(bubbles[0].QuerySelector("[data-testid=chat-ticks]"));
        Assert.Equal("❤️", bubbles[0].QuerySelector("[data-testid=chat-reaction]")!.TextContent);
        Assert.Equal(["Sent", "Delivered", "Read"], bubbles.Skip(1).Select(b => b.QuerySelector("[data-testid=chat-ticks]")!.GetAttribute("aria-label")));
        Assert.Contains("wb-ticks-read", bubbles[3].QuerySelector("[data-testid=chat-ticks]")!.ClassName);
        Assert.DoesNotContain("wb-ticks-read", bubbles[2].QuerySelector("[data-testid=chat-ticks]")!.ClassName);
        var quote = bubbles[1].QuerySelector("[data-testid=chat-quote]")!;
        Assert.Contains("Amina", quote.TextContent);
        Assert.Contains("Do you deliver?", quote.TextContent);
        Assert.Equal("log", cut.Find("[data-testid=chat-thread]").GetAttribute("role"));
        // One to one, nobody is named on each message: the title says who.
        Assert.Empty(cut.FindAll("[data-testid=chat-author]"));
    }

    [Fact]
    public void A_group_is_listed_by_its_subject_and_its_thread_names_each_author_by_push_name_and_number_or_LID()
    {
        const string group = "120363012345678901@g.us";
        var now = DateTimeOffset.UtcNow;
        IReadOnlyList<ChatSummary> chats =
        [
            new("WB-1", group, "Shop team", 3, Message.Inbound, "chat", "Stock is in", MessageStatus.Received, now, 1),
            new("WB-1", "120363099999999999@g.us", null, 2, Message.Inbound, "chat", "Hi all", MessageStatus.Received, now, 1),
        ];
        var list = h.Ctx.Render<ChatList>(p => p.Add(c => c.Chats, chats));
        var names = list.FindAll("[data-testid=chat-name]");
        Assert.Equal("Shop team", names[0].TextContent);
        // Not read from WhatsApp yet: its id, rather than nothing.
        Assert.Equal("120363099999999999@g.us", names[1].TextContent);

        var thread = new ChatThread("WB-1", group,
        [
            Bubble(1, Message.Inbound, "Stock is in", MessageStatus.Received) with { Author = new ChatAuthor("Amina", "255711000041", null) },
            Bubble(2, Message.Inbound, "Great", MessageStatus.Received) with { Author = new ChatAuthor(null, null, "987654321098765") },
            Bubble(3, Message.Inbound, "Who has the keys?", MessageStatus.Received) with { Author = new ChatAuthor("Baraka", null, "120542636048510") },
            Bubble(4, Message.Outbound, "I do", MessageStatus.Sent),
        ], false) { Subject = "Shop team" };
        var cut = h.Render<ChatThreadView>(b =>
        {
            b.AddAttribute(1, nameof(ChatThreadView.Thread), thread);
            b.AddAttribute(2, nameof(ChatThreadView.Title), "Shop team");
        });

        var bubbles = cut.FindAll("[data-testid=chat-message]");
        Assert.Equal(["Amina · +255711000041", "LID 987654321098765", "Baraka · LID 120542636048510"],
            bubbles.Take(3).Select(b => b.QuerySelector("[data-testid=chat-author]")!.TextContent));
        // Our own messages carry no author line.
        Assert.Null(bubbles[3].QuerySelector("[data-testid=chat-author]"));
    }

    [Fact]
    public async Task The_composer_sends_a_reply_quoting_the_picked_message_and_tells_the_contact_we_type()
    {
        var instance = await ConnectedAsync("255700333444");
        var question = await InboundAsync(instance, "255711000001", "Do you deliver?");
        var replyTo = Bubble(question.Id, Message.Inbound, "Do you deliver?", MessageStatus.Received) with { SerializedId = question.SerializedId };
        SendOutcome? sent = null;
        var cut = h.Render<ChatComposer>(b =>
        {
            b.AddAttribute(1, nameof(ChatComposer.CustomerId), customer.Id);
            b.AddAttribute(2, nameof(ChatComposer.InstanceCode), instance.Code);
            b.AddAttribute(3, nameof(ChatComposer.Chat), "255711000001");
            b.AddAttribute(4, nameof(ChatComposer.ReplyTo), replyTo);
            b.AddAttribute(5, nameof(ChatComposer.Sent), Microsoft.AspNetCore.Components.EventCallback.Factory.Create<SendOutcome>(this, o => sent = o));
        });
        Assert.Contains("Do you deliver?", cut.Find("[data-testid=composer-reply]").TextContent);

        cut.Find("[data-testid=composer-text] textarea").Input("Yes, tomorrow");
        cut.ClickOn("[data-testid=composer-send]");
        cut.WaitForAssertion(() => Assert.NotNull(sent), TimeSpan.FromSeconds(10));

        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        var row = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == sent!.MessageId, Ct);
        Assert.Equal(("Yes, tomorrow", question.WaMessageId, "255711000001", MessageSources.Dashboard), (row.Body, row.QuotedId, row.Chat, row.Source));
        Assert.Contains(h.Simulator.Actions(instance.Code), a => a.StartsWith("presence:", StringComparison.Ordinal) && a.EndsWith(":composing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_composer_send_starts_its_own_trace_not_the_long_lived_circuits()
    {
        using var spans = new Telemetry.SpanCapture();
        var instance = await ConnectedAsync("255700333445");
        SendOutcome? sent = null;
        // A dashboard circuit runs in the activity of the connection it came in on, for as long as the tab is open.
        using var circuit = new System.Diagnostics.Activity("circuit").SetIdFormat(System.Diagnostics.ActivityIdFormat.W3C).Start();
        var cut = h.Render<ChatComposer>(b =>
        {
            b.AddAttribute(1, nameof(ChatComposer.CustomerId), customer.Id);
            b.AddAttribute(2, nameof(ChatComposer.InstanceCode), instance.Code);
            b.AddAttribute(3, nameof(ChatComposer.Chat), "255711000009");
            b.AddAttribute(4, nameof(ChatComposer.Sent), Microsoft.AspNetCore.Components.EventCallback.Factory.Create<SendOutcome>(this, o => sent = o));
        });
        cut.Find("[data-testid=composer-text] textarea").Input("Traced apart");
        cut.ClickOn("[data-testid=composer-send]");
        cut.WaitForAssertion(() => Assert.NotNull(sent), TimeSpan.FromSeconds(10));

        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        var traceId = WapBridge.Core.Telemetry.WapBridgeTelemetry.TraceIdOf((await db.Messages.AsNoTracking().SingleAsync(m => m.Id == sent!.MessageId, Ct)).TraceParent);
        Assert.NotNull(traceId);
        Assert.NotEqual(circuit.TraceId.ToHexString(), traceId);
        var root = await spans.WaitForAsync(s => s.OperationName == WapBridge.Core.Telemetry.TraceNames.DashboardSend && s.TraceId.ToHexString() == traceId);
        Assert.Equal(default, root.ParentSpanId);
    }

    [Fact]
    public async Task The_page_opens_a_deep_linked_chat_marks_it_read_and_shows_new_messages_and_statuses_live()
    {
        var instance = await ConnectedAsync("255700333555");
        await InboundAsync(instance, "255711000002", "First question", "Baraka");
        await InboundAsync(instance, "255711000002", "Second question", "Baraka");
        var cut = h.Render<ChatsPage>(b =>
        {
            b.AddAttribute(11, nameof(ChatsPage.Instance), instance.Code);
            b.AddAttribute(12, nameof(ChatsPage.Chat), "255711000002");
        });

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=chat-message]").Count), TimeSpan.FromSeconds(5));
        Assert.Contains("Baraka", cut.Find("[data-testid=chat-title]").TextContent);
        // Opening the thread read it: no unread badge, and WhatsApp was told.
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=chat-unread]")), TimeSpan.FromSeconds(5));
        Assert.Contains(h.Simulator.Actions(instance.Code), a => a.StartsWith("read:", StringComparison.Ordinal));

        // A message accepted elsewhere (the API) arrives through the live feed, and its receipts walk its ticks.
        var message = OutboundMessages.New(instance, "255711000002", "Answer from the API", null, null, MessageSources.Api, null, DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        await h.Ctx.Services.GetRequiredService<MessageIntake>().SaveAsync(message);
        cut.WaitForAssertion(() => Assert.Contains("Answer from the API", cut.Find("[data-testid=chat-thread]").TextContent), TimeSpan.FromSeconds(10));
        await h.Ctx.Services.GetRequiredService<MessageReceipts>().ApplyAsync(
            [(instance.Id, new MessageStatusEvent(instance.Code, DateTimeOffset.UtcNow, message.WaMessageId, MessageAck.Read))]);
        cut.WaitForAssertion(() => Assert.Equal("read", cut.FindAll("[data-testid=chat-message]")[^1].QuerySelector("[data-testid=chat-ticks]")!.GetAttribute("data-status")),
            TimeSpan.FromSeconds(10));

        // A new inbound message: announced as the inbound recorder does, shown without a reload.
        await InboundAsync(instance, "255711000003", "Hello from someone new", "Neema");
        h.Ctx.Services.GetRequiredService<LiveNotices>().MessagesChanged(customer.Id, instance.Code);
        cut.WaitForAssertion(() => Assert.Contains("Neema", cut.Find("[data-testid=chat-list]").TextContent), TimeSpan.FromSeconds(5));
        Assert.Equal("1", cut.Find("[data-chat='255711000003'] [data-testid=chat-unread]").TextContent);
    }

    [Fact]
    public async Task The_open_chats_contact_typing_shows_live_and_ends_when_they_pause()
    {
        var instance = await ConnectedAsync("255700333666");
        await InboundAsync(instance, "255711000004", "Are you open?", "Zawadi");
        var cut = h.Render<ChatsPage>(b =>
        {
            b.AddAttribute(11, nameof(ChatsPage.Instance), instance.Code);
            b.AddAttribute(12, nameof(ChatsPage.Chat), "255711000004");
        });
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=chat-message]")), TimeSpan.FromSeconds(5));
        string Typing() => cut.Find("[data-testid=chat-typing]").TextContent.Trim();
        Assert.Equal("", Typing());

        // The contact's phone says it types: through the engine, the instance actor and the live feed, as on WhatsApp.
        await h.Simulator.InjectPresenceAsync(instance.Code, new SimulatedPresence("255711000004", null, EnginePresence.Composing), Ct);
        cut.WaitForAssertion(() => Assert.Equal("typing…", Typing()), TimeSpan.FromSeconds(5));

        // Someone typing in another chat is not shown here; this contact pausing ends it.
        await h.Simulator.InjectPresenceAsync(instance.Code, new SimulatedPresence("255711000009", null, EnginePresence.Recording), Ct);
        await h.Simulator.InjectPresenceAsync(instance.Code, new SimulatedPresence("255711000004", null, EnginePresence.Paused), Ct);
        cut.WaitForAssertion(() => Assert.Equal("", Typing()), TimeSpan.FromSeconds(5));
        await Task.Delay(LiveChanges.SubscriberInterval * 3, Ct);
        Assert.Equal("", Typing());
    }
}
