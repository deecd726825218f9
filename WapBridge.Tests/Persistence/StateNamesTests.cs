using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Tests.Persistence;

/// <summary>
/// The state enums store and show exactly the strings the string constants did: the rows already in databases, API
/// clients, webhook receivers and the dashboard's tests read them. The literals are spelled out, so renaming a member fails here.
/// </summary>
[Trait("Category", "Unit")]
public sealed class StateNamesTests
{
    public static readonly Dictionary<MessageStatus, string> MessageStatuses = new()
    {
        [MessageStatus.Queued] = "queued", [MessageStatus.Sending] = "sending", [MessageStatus.Sent] = "sent",
        [MessageStatus.Delivered] = "delivered", [MessageStatus.Read] = "read", [MessageStatus.Played] = "played",
        [MessageStatus.Failed] = "failed", [MessageStatus.Received] = "received",
    };

    public static readonly Dictionary<InstanceState, string> InstanceStates = new()
    {
        [InstanceState.New] = "new", [InstanceState.Qr] = "qr", [InstanceState.Pairing] = "pairing", [InstanceState.Connecting] = "connecting",
        [InstanceState.Connected] = "connected", [InstanceState.Disconnected] = "disconnected", [InstanceState.LoggedOut] = "logged_out",
    };

    public static readonly Dictionary<CampaignState, string> CampaignStates = new()
    {
        [CampaignState.Creating] = "creating", [CampaignState.Scheduled] = "scheduled", [CampaignState.Running] = "running",
        [CampaignState.Paused] = "paused", [CampaignState.Completed] = "completed", [CampaignState.Cancelled] = "cancelled",
    };

    public static readonly Dictionary<RecipientState, string> RecipientStates = new()
    {
        [RecipientState.Pending] = "pending", [RecipientState.Sending] = "sending", [RecipientState.Sent] = "sent",
        [RecipientState.Delivered] = "delivered", [RecipientState.Read] = "read", [RecipientState.Failed] = "failed",
        [RecipientState.Invalid] = "invalid", [RecipientState.Duplicate] = "duplicate", [RecipientState.Skipped] = "skipped",
        [RecipientState.Cancelled] = "cancelled",
    };

    public static readonly Dictionary<DeliveryState, string> DeliveryStates = new()
    {
        [DeliveryState.Pending] = "pending", [DeliveryState.Delivered] = "delivered", [DeliveryState.Dead] = "dead",
    };

    [Fact]
    public void Message_statuses_keep_their_strings() => AssertRoundTrips(MessageStatuses);

    [Fact]
    public void Instance_states_keep_their_strings() => AssertRoundTrips(InstanceStates);

    [Fact]
    public void Campaign_states_keep_their_strings() => AssertRoundTrips(CampaignStates);

    [Fact]
    public void Recipient_states_keep_their_strings() => AssertRoundTrips(RecipientStates);

    [Fact]
    public void Delivery_states_keep_their_strings() => AssertRoundTrips(DeliveryStates);

    private static void AssertRoundTrips<T>(Dictionary<T, string> expected) where T : struct, Enum
    {
        // A member added without a literal here would be stored under a name nobody checked.
        Assert.Equal(Enum.GetValues<T>().Order(), expected.Keys.Order());
        var converter = new WireNameConverter<T>();
        foreach (var (value, literal) in expected)
        {
            Assert.Equal(literal, converter.ConvertToProvider(value));
            Assert.Equal(value, converter.ConvertFromProvider(literal));
            Assert.Equal(literal, value.ToWire());
            // The API's JSON options and plain ones (webhook payloads) write the same string.
            Assert.Equal($"\"{literal}\"", JsonSerializer.Serialize(value, FrappeJson.Options));
            Assert.Equal($"\"{literal}\"", JsonSerializer.Serialize(value));
            Assert.Equal(value, JsonSerializer.Deserialize<T>($"\"{literal}\""));
        }
        Assert.False(WireNames.TryFromWire<T>("bogus", out _));
        Assert.Throws<FormatException>(() => converter.ConvertFromProvider("bogus"));
    }

    [Fact]
    public void Every_state_column_is_stored_through_the_converter_as_text_of_its_old_length()
    {
        using var sqlite = new SqliteWapBridgeDbContext(new DbContextOptionsBuilder<SqliteWapBridgeDbContext>().UseSqlite("Data Source=:memory:").Options);
        using var postgres = new PostgresWapBridgeDbContext(new DbContextOptionsBuilder<PostgresWapBridgeDbContext>().UseNpgsql("Host=127.0.0.1").Options);
        foreach (var model in new[] { sqlite.Model, postgres.Model })
        {
            AssertColumn<Message, MessageStatus>(model, nameof(Message.Status), 12);
            AssertColumn<Instance, InstanceState>(model, nameof(Instance.State), 20);
            AssertColumn<InstanceStateChange, InstanceState>(model, nameof(InstanceStateChange.State), 20);
            AssertColumn<Campaign, CampaignState>(model, nameof(Campaign.State), 12);
            AssertColumn<CampaignRecipient, RecipientState>(model, nameof(CampaignRecipient.State), 12);
            AssertColumn<WebhookDelivery, DeliveryState>(model, nameof(WebhookDelivery.State), 12);
        }
    }

    private static void AssertColumn<TEntity, TState>(Microsoft.EntityFrameworkCore.Metadata.IModel model, string property, int maxLength)
        where TState : struct, Enum
    {
        var p = model.FindEntityType(typeof(TEntity))!.FindProperty(property)!;
        Assert.IsType<WireNameConverter<TState>>(p.GetTypeMapping().Converter);
        Assert.Equal(typeof(string), p.GetTypeMapping().Converter!.ProviderClrType);
        Assert.Equal(maxLength, p.GetMaxLength());
    }

    [Fact]
    public void The_forward_paths_are_the_declaration_order()
    {
        Assert.True(MessageStatus.Queued < MessageStatus.Sending && MessageStatus.Sending < MessageStatus.Sent && MessageStatus.Sent < MessageStatus.Delivered
            && MessageStatus.Delivered < MessageStatus.Read && MessageStatus.Read < MessageStatus.Played);
        Assert.True(RecipientState.Pending < RecipientState.Sending && RecipientState.Sending < RecipientState.Sent && RecipientState.Sent < RecipientState.Delivered
            && RecipientState.Delivered < RecipientState.Read);
    }
}
