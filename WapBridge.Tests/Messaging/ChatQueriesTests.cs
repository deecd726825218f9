using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Groups;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>
/// The Chats page's reads over a real database: conversations per instance with unread counts and the counterpart's
/// name, threads with reactions, quotes, edits and deletes folded in, paging both ways, and nothing of another customer's.
/// </summary>
public abstract class ChatQueriesTests(WapBridgeApp app)
{
    private ChatQueries Queries => app.Services.GetRequiredService<ChatQueries>();
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task<Instance> InstanceAsync(SendingCustomer owner)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        return await db.Instances.AsNoTracking().SingleAsync(i => i.Code == owner.InstanceId, Ct);
    }

    private static Message Row(Instance instance, string chat, string direction, string? body, string type = "chat", MessageStatus? status = null,
        string? sender = null, string? quoted = null, string? target = null, DateTimeOffset? readAt = null)
    {
        var waId = WhatsAppIds.NewMessageId();
        return new Message
        {
            CustomerId = instance.CustomerId,
            InstanceId = instance.Id,
            Direction = direction,
            WaMessageId = waId,
            SerializedId = (direction == Message.Outbound ? "true_" : "false_") + chat + "@c.us_" + waId,
            FromNumber = direction == Message.Inbound ? chat : instance.PhoneNumber,
            ToNumber = direction == Message.Inbound ? instance.PhoneNumber : chat,
            Chat = chat,
            SenderName = sender,
            Type = type,
            Body = body,
            QuotedId = quoted,
            TargetId = target,
            Status = status ?? (direction == Message.Inbound ? MessageStatus.Received : MessageStatus.Sent),
            Source = direction == Message.Inbound ? MessageSources.Inbound : MessageSources.Api,
            CreatedAt = DateTimeOffset.UtcNow,
            ReadAt = readAt,
        };
    }

    private async Task AddAsync(params Message[] rows)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        // One at a time: ids then follow the order given, which is the order the lists show.
        foreach (var row in rows)
        {
            db.Messages.Add(row);
            await db.SaveChangesAsync(Ct);
        }
    }

    [Fact]
    public async Task Conversations_are_listed_newest_first_with_the_last_message_the_contacts_name_and_unread_count()
    {
        var owner = await app.CreateConnectedAsync();
        var instance = await InstanceAsync(owner);
        await AddAsync(
            Row(instance, "255711000001", Message.Inbound, "Hi, is the shop open?", sender: "Old name"),
            Row(instance, "255711000002", Message.Inbound, "Already read", sender: "Bea", readAt: DateTimeOffset.UtcNow),
            Row(instance, "255711000001", Message.Inbound, "Hello?", sender: "Amina"),
            Row(instance, "255711000003", Message.Outbound, "Your order shipped", status: MessageStatus.Delivered),
            Row(instance, "255711000001", Message.Inbound, "👍", type: ConversationService.ReactionType, target: "X"));

        var page = await Queries.ListAsync(instance.CustomerId, owner.InstanceId, Paging.From(10, 0), Ct);

        Assert.Equal(3, page.Total);
        Assert.Equal(["255711000003", "255711000001", "255711000002"], page.Data.Select(c => c.Chat));
        var amina = page.Data[1];
        Assert.Equal("Amina", amina.Name);
        Assert.Equal("Hello?", amina.LastPreview);
        // Reactions are not messages of their own: neither the last message nor unread.
        Assert.Equal(2, amina.Unread);
        Assert.Equal(0, page.Data[2].Unread);
        var shipped = page.Data[0];
        Assert.Null(shipped.Name);
        Assert.Equal((Message.Outbound, MessageStatus.Delivered, "Your order shipped"), (shipped.LastDirection, shipped.LastStatus, shipped.LastPreview));

        var second = await Queries.ListAsync(instance.CustomerId, owner.InstanceId, Paging.From(2, 2), Ct);
        Assert.Equal(3, second.Total);
        Assert.Equal(["255711000002"], second.Data.Select(c => c.Chat));
    }

    [Fact]
    public async Task Marking_a_chat_read_clears_its_unread_count()
    {
        var owner = await app.CreateConnectedAsync();
        var instance = await InstanceAsync(owner);
        await AddAsync(Row(instance, "255711000011", Message.Inbound, "One"), Row(instance, "255711000011", Message.Inbound, "Two"));
        Assert.Equal(2, (await Queries.ListAsync(instance.CustomerId, owner.InstanceId, Paging.From(10, 0), Ct)).Data.Single().Unread);

        var marked = await app.Services.GetRequiredService<ConversationService>().MarkReadAsync(instance.CustomerId, null, owner.InstanceId, "255711000011", Ct);

        Assert.Equal(2, marked);
        Assert.Equal(0, (await Queries.ListAsync(instance.CustomerId, owner.InstanceId, Paging.From(10, 0), Ct)).Data.Single().Unread);
    }

    [Fact]
    public async Task A_thread_folds_reactions_edits_deletes_and_quotes_into_its_messages_and_pages_backwards()
    {
        var owner = await app.CreateConnectedAsync();
        var instance = await InstanceAsync(owner);
        const string chat = "255711000021";
        var question = Row(instance, chat, Message.Inbound, "Do you deliver?", sender: "Juma");
        var answer = Row(instance, chat, Message.Outbound, "Yes, tomorrow", status: MessageStatus.Read);
        answer.QuotedId = question.WaMessageId;
        var typo = Row(instance, chat, Message.Outbound, "Thnks", status: MessageStatus.Delivered);
        var oops = Row(instance, chat, Message.Outbound, "Wrong chat", status: MessageStatus.Sent);
        await AddAsync(
            Row(instance, chat, Message.Inbound, "Oldest"),
            question, answer, typo, oops,
            Row(instance, chat, Message.Inbound, "🙏", type: ConversationService.ReactionType, target: answer.WaMessageId),
            Row(instance, chat, Message.Outbound, "❤️", type: ConversationService.ReactionType, target: question.WaMessageId),
            // Our reaction taken back: only the contact's remains on the answer.
            Row(instance, chat, Message.Outbound, "👍", type: ConversationService.ReactionType, target: answer.WaMessageId),
            Row(instance, chat, Message.Outbound, "", type: ConversationService.ReactionType, target: answer.WaMessageId),
            Row(instance, chat, Message.Outbound, "Thanks", type: ConversationService.EditType, target: typo.WaMessageId),
            Row(instance, chat, Message.Outbound, null, type: ConversationService.RevokeType, target: oops.WaMessageId),
            Row(instance, "255711000099", Message.Inbound, "Another chat"));

        var thread = await Queries.ThreadAsync(instance.CustomerId, owner.InstanceId, chat, null, 4, Ct);

        Assert.True(thread.HasOlder);
        Assert.Equal(["Do you deliver?", "Yes, tomorrow", "Thanks", null], thread.Messages.Select(m => m.Text));
        var (q, a, t, o) = (thread.Messages[0], thread.Messages[1], thread.Messages[2], thread.Messages[3]);
        Assert.Equal(["❤️"], q.Reactions.Select(r => r.Emoji));
        Assert.Equal(Message.Outbound, q.Reactions[0].Direction);
        Assert.Equal(["🙏"], a.Reactions.Select(r => r.Emoji));
        Assert.Equal(MessageStatus.Read, a.Status);
        Assert.Equal(question.WaMessageId, a.Quote!.WaMessageId);
        Assert.Equal(("Do you deliver?", Message.Inbound), (a.Quote.Preview, a.Quote.Direction));
        Assert.True(t.Edited);
        Assert.True(o.Revoked);
        Assert.False(a.Edited || a.Revoked);

        var older = await Queries.ThreadAsync(instance.CustomerId, owner.InstanceId, chat, thread.Messages[0].Id, 4, Ct);
        Assert.False(older.HasOlder);
        Assert.Equal(["Oldest"], older.Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task A_group_is_named_by_its_cached_subject_and_each_received_message_by_its_author()
    {
        var owner = await app.CreateConnectedAsync();
        var instance = await InstanceAsync(owner);
        var group = $"1203630{Random.Shared.NextInt64(10_000_000, 99_999_999)}@g.us";
        var unnamed = $"1203631{Random.Shared.NextInt64(10_000_000, 99_999_999)}@g.us";
        var byNumber = GroupRow(Row(instance, group, Message.Inbound, "From a number", sender: "Amina"), "255711000041");
        var byKnownLid = GroupRow(Row(instance, group, Message.Inbound, "From a LID we learned", sender: "Baraka"), "120542636048510@lid");
        var byLid = GroupRow(Row(instance, group, Message.Inbound, "From a hidden number"), "987654321098765@lid");
        var ours = Row(instance, group, Message.Outbound, "Our answer");
        await AddAsync(byNumber, byKnownLid, byLid, ours, Row(instance, unnamed, Message.Inbound, "Elsewhere"));
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct))
        {
            db.CachedGroups.Add(new CachedGroup
            {
                InstanceId = instance.Id, GroupJid = group, Subject = "Shop team", ParticipantsJson = "[]", Size = 4, RefreshedAt = DateTimeOffset.UtcNow,
            });
            db.LidMappings.Add(new LidMapping { InstanceId = instance.Id, Lid = "120542636048510", PhoneNumber = "255711000042", LearnedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(Ct);
        }

        var list = await Queries.ListAsync(instance.CustomerId, owner.InstanceId, Paging.From(10, 0), Ct);
        Assert.Equal("Shop team", list.Data.Single(c => c.Chat == group).Name);
        // A group not read from WhatsApp yet has no name: the page shows its id; a member's push name never names it.
        Assert.Null(list.Data.Single(c => c.Chat == unnamed).Name);

        var thread = await Queries.ThreadAsync(instance.CustomerId, owner.InstanceId, group, null, 10, Ct);
        Assert.Equal("Shop team", thread.Subject);
        Assert.Equal(
            [new ChatAuthor("Amina", "255711000041", null), new ChatAuthor("Baraka", "255711000042", "120542636048510"), new ChatAuthor(null, null, "987654321098765"), null],
            thread.Messages.Select(m => m.Author));
        Assert.Null((await Queries.ThreadAsync(instance.CustomerId, owner.InstanceId, unnamed, null, 10, Ct)).Subject);

        // A group the instance is in but nobody wrote to yet opens empty, named; an unknown one is not found.
        var quiet = $"1203632{Random.Shared.NextInt64(10_000_000, 99_999_999)}@g.us";
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct))
        {
            db.CachedGroups.Add(new CachedGroup
            {
                InstanceId = instance.Id, GroupJid = quiet, Subject = "New group", ParticipantsJson = "[]", Size = 2, RefreshedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync(Ct);
        }
        var empty = await Queries.ThreadAsync(instance.CustomerId, owner.InstanceId, quiet, null, 10, Ct);
        Assert.Equal(("New group", 0), (empty.Subject, empty.Messages.Count));
        var stranger = await InstanceAsync(await app.CreateConnectedAsync());
        var notTheirs = await Assert.ThrowsAsync<WapBridgeException>(() => Queries.ThreadAsync(stranger.CustomerId, stranger.Code, quiet, null, 10, Ct));
        Assert.Equal(ErrorKind.NotFound, notTheirs.Kind);
    }

    private static Message GroupRow(Message row, string author)
    {
        row.FromNumber = author;
        row.SerializedId = $"false_{row.Chat}_{row.WaMessageId}_{author}";
        return row;
    }

    [Fact]
    public async Task Another_customers_instance_or_an_unknown_chat_is_not_found()
    {
        var owner = await app.CreateConnectedAsync();
        var stranger = await app.CreateConnectedAsync();
        var instance = await InstanceAsync(owner);
        var theirs = await InstanceAsync(stranger);
        await AddAsync(Row(instance, "255711000031", Message.Inbound, "Private"));

        var list = await Assert.ThrowsAsync<WapBridgeException>(() => Queries.ListAsync(theirs.CustomerId, owner.InstanceId, Paging.From(10, 0), Ct));
        Assert.Equal(ErrorKind.NotFound, list.Kind);
        var thread = await Assert.ThrowsAsync<WapBridgeException>(() => Queries.ThreadAsync(theirs.CustomerId, owner.InstanceId, "255711000031", null, 10, Ct));
        Assert.Equal(ErrorKind.NotFound, thread.Kind);
        // The stranger's own instance has no such chat.
        var unknown = await Assert.ThrowsAsync<WapBridgeException>(() => Queries.ThreadAsync(theirs.CustomerId, stranger.InstanceId, "255711000031", null, 10, Ct));
        Assert.Equal((ErrorKind.NotFound, "chat"), (unknown.Kind, unknown.Field));
        Assert.Empty((await Queries.ListAsync(theirs.CustomerId, stranger.InstanceId, Paging.From(10, 0), Ct)).Data);
    }
}

public sealed class SqliteChatQueriesTests(SqliteMessagingApp app) : ChatQueriesTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresChatQueriesTests(PostgresMessagingApp app) : ChatQueriesTests(app), IClassFixture<PostgresMessagingApp>;
