using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// Templates are the Cloud API's (contract §11): on an instance whose engine has none, send_template and list_templates
/// answer 409 <c>EngineFeatureUnavailable</c> and keep nothing, and a campaign with a template is a 417 naming it.
/// </summary>
public abstract class TemplateEngineRefusalTests(WapBridgeApp app)
{
    private const string W = "wap_bridge.api.whatsapp.";

    [Fact]
    public async Task Send_template_and_list_templates_on_a_simulator_instance_are_409_and_keep_nothing()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync(defaultCountry: "TZ");

        var send = await owner.Client.CallAsync(W + "send_template",
            new { instance_id = owner.InstanceId, to_number = "0755123456", template = "order_update", language = "en", wait = 5 });
        Assert.Equal(409, send.Status);
        Assert.Equal("EngineFeatureUnavailable", send.ExcType);
        Assert.Equal("template", send.ErrorField);
        Assert.Contains("cannot do templates", send.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Contains("Cloud API", send.Body!["error"]!["message"]!.GetValue<string>());

        var list = await owner.Client.CallAsync(W + "list_templates", new { instance_id = owner.InstanceId });
        Assert.Equal(409, list.Status);
        Assert.Equal("EngineFeatureUnavailable", list.ExcType);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        Assert.False(await db.Messages.AnyAsync(m => m.Type == "template", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_campaign_with_a_template_on_a_simulator_instance_is_417_naming_template()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var create = await owner.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = owner.InstanceId, template = "order_update", language = "en", recipients = new[] { "0755123456" },
        });
        Assert.Equal(417, create.Status);
        Assert.Equal("template", create.ErrorField);
        Assert.Contains("Cloud API", create.Body!["error"]!["message"]!.GetValue<string>());

        // A free-form campaign shows no template.
        var plain = (await owner.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = owner.InstanceId, message = "Hello", recipients = new[] { "0755123456" },
        })).EnsureOk().Message!;
        var status = (await owner.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign = plain["campaign"]!.GetValue<string>() })).EnsureOk().Message!;
        Assert.Null(status["template"]);
        Assert.Null(status["language"]);
    }
}

public sealed class SqliteTemplateEngineRefusalTests(SqliteMessagingApp app) : TemplateEngineRefusalTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresTemplateEngineRefusalTests(PostgresMessagingApp app) : TemplateEngineRefusalTests(app), IClassFixture<PostgresMessagingApp>;
