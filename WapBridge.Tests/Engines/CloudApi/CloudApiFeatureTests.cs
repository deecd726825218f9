using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// The conversation methods (contract §9) on a Cloud API instance: what Graph offers maps onto it, what it does not
/// (edits, deletes for everyone, polls, presence, profiles, groups) answers 409 <c>EngineFeatureUnavailable</c>
/// naming the feature, and nothing reaches Graph.
/// </summary>
public abstract class CloudApiFeatureTests(CloudApiApp app)
{
    private const string P = "wap_bridge.api.";

    [Fact]
    public async Task What_graph_cannot_do_is_409_naming_the_feature_and_nothing_reaches_graph()
    {
        app.SkipIfUnavailable();
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var template = (await instance.Client.CallAsync(P + "whatsapp.send_template",
            new { instance_id = instance.InstanceId, to_number = "255712000001", template = "order_update", language = "en", wait = 15 })).EnsureOk().Message!;
        var ours = template["id"]!.GetValue<string>();
        var sendsBefore = app.Graph.Sends.Count;

        var refused = new (string Method, object Args, string Feature)[]
        {
            ("whatsapp.send_poll", new { instance_id = instance.InstanceId, to_number = "255712000001", question = "Size?", options = new[] { "S", "M" } }, "polls"),
            ("whatsapp.edit_message", new { id = ours, message = "changed" }, "edits"),
            ("whatsapp.delete_message", new { id = ours, for_everyone = true }, "delete_for_everyone"),
            ("whatsapp.send_presence", new { instance_id = instance.InstanceId, to_number = "255712000001", state = "composing" }, "presence"),
            ("contacts.get_profile", new { instance_id = instance.InstanceId, number = "255712000001" }, "profiles"),
            ("groups.list_groups", new { instance_id = instance.InstanceId }, "groups"),
            ("groups.create_group", new { instance_id = instance.InstanceId, subject = "Team", participants = new[] { "255712000001" } }, "groups"),
        };
        foreach (var (method, args, feature) in refused)
        {
            var answer = await instance.Client.CallAsync(P + method, args);
            Assert.True(answer.Status == 409, $"{method}: {answer.Status} {answer.Body?.ToJsonString()}");
            Assert.Equal("EngineFeatureUnavailable", answer.ExcType);
            Assert.Contains(feature, answer.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        Assert.Equal(sendsBefore, app.Graph.Sends.Count);
    }
}

[Trait("Category", "Integration")]
public sealed class SqliteCloudApiFeatureTests(SqliteCloudApiApp app) : CloudApiFeatureTests(app), IClassFixture<SqliteCloudApiApp>;

[Trait("Category", "Integration")]
public sealed class PostgresCloudApiFeatureTests(PostgresCloudApiApp app) : CloudApiFeatureTests(app), IClassFixture<PostgresCloudApiApp>;
