using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// Issue 22, media "by link": with <c>WapBridge:Engines:CloudApi:SendMediaByLink</c> Graph gets a signed link to the
/// gateway's own copy and fetches the file itself (the fake Graph fetches it over loopback, as Meta would over the
/// internet); without it every file is uploaded to Graph first and sent by id.
/// </summary>
public sealed class CloudApiMediaByLinkTests
{
    private const string W = "wap_bridge.api.whatsapp.";
    private const string Contact = "255755400400";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Pdf = "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"u8.ToArray();

    private static async Task<CloudApiTestInstance> InstanceWithOpenWindowAsync(CloudApiApp app)
    {
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        using var meta = app.CreateApiClient();
        var wamid = MetaWebhooks.NewWamid();
        using var answer = await MetaWebhooks.PostAsync(meta, instance.InstanceId, instance.Number.AppSecret,
            MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text(Contact, "Nitumie ankara", wamid)));
        Assert.Equal(200, (int)answer.StatusCode);
        await app.WaitForInboundAsync(instance, wamid);
        return instance;
    }

    private static async Task<JsonObject> SendInvoiceAsync(CloudApiTestInstance instance) =>
        (await instance.Client.CallAsync(W + "send_api_message", new
        {
            instance_id = instance.InstanceId, to_number = Contact, media_data = Convert.ToBase64String(Pdf),
            mime_type = "application/pdf", filename = "ankara-0042.pdf", caption = "Ankara yako", wait = 15,
        })).EnsureOk().Message!.AsObject();

    [Fact]
    public async Task With_send_media_by_link_graph_fetches_the_file_from_the_gateways_signed_link_and_nothing_is_uploaded()
    {
        await using var app = new CloudApiApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Engines:CloudApi:SendMediaByLink"] = "true",
        }, kestrel: true);
        await app.InitializeAsync();
        var instance = await InstanceWithOpenWindowAsync(app);

        var sent = await SendInvoiceAsync(instance);
        Assert.Equal("sent", sent["status"]!.GetValue<string>());

        var send = Assert.Single(app.Graph.Sends, s => s.Json?["type"]?.GetValue<string>() == "document");
        var document = send.Json!["document"]!.AsObject();
        Assert.Null(document["id"]);
        Assert.Equal("ankara-0042.pdf", document["filename"]!.GetValue<string>());
        Assert.Equal("Ankara yako", document["caption"]!.GetValue<string>());
        var link = document["link"]!.GetValue<string>();
        Assert.StartsWith(app.ServerAddress.ToString().TrimEnd('/') + "/media/", link, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Graph.Requests, r => r.Path.EndsWith("/media", StringComparison.Ordinal));

        var fetched = Assert.Single(app.Graph.Fetches);
        Assert.Equal(link, fetched.Link);
        Assert.Equal(200, fetched.Status);
        Assert.Equal(Pdf, fetched.Data);
        Assert.StartsWith("application/pdf", fetched.ContentType, StringComparison.Ordinal);

        // The gateway here listens on plain http: Meta could not fetch that, and the operator is told how to fix it, once.
        var warnings = app.Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("SendMediaByLink", StringComparison.Ordinal)).ToList();
        Assert.Contains("WAPBRIDGE_PublicBaseUrl", Assert.Single(warnings).Message, StringComparison.Ordinal);
        await SendInvoiceAsync(instance);
        Assert.Single(app.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("SendMediaByLink", StringComparison.Ordinal));
    }

    [Fact]
    public async Task By_default_the_file_is_uploaded_to_graph_and_sent_by_its_media_id()
    {
        await using var app = new CloudApiApp(kestrel: true);
        await app.InitializeAsync();
        var instance = await InstanceWithOpenWindowAsync(app);

        await SendInvoiceAsync(instance);

        var send = Assert.Single(app.Graph.Sends, s => s.Json?["type"]?.GetValue<string>() == "document");
        var document = send.Json!["document"]!.AsObject();
        Assert.Null(document["link"]);
        var uploaded = app.Graph.Media(document["id"]!.GetValue<string>());
        Assert.NotNull(uploaded);
        Assert.Equal(Pdf, uploaded.Data);
        Assert.Empty(app.Graph.Fetches);
    }
}
