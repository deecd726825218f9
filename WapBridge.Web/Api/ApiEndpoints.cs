using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

/// <summary>The one place where every API feature's methods are mapped.</summary>
public static class ApiEndpoints
{
    public static void MapWapBridgeApi(this IEndpointRouteBuilder app)
    {
        app.MapAccountEndpoints();
        app.MapAdminEndpoints();
        app.MapInstanceEndpoints();
        app.MapMessagingEndpoints();
        app.MapTemplateEndpoints();
        app.MapCampaignEndpoints();
        app.MapSettingsEndpoints();
        app.MapMediaEndpoints();
        app.MapContactEndpoints();
        app.MapGroupEndpoints();
        app.MapCloudApiWebhookEndpoints();
        if (app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Core.Engines.Simulator.SimulatorOptions>>().Value.Enabled)
            app.MapSimulatorEndpoints();
        app.MapFrappeFallback();
    }
}
