using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Telemetry;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Hosting;

/// <summary>
/// OpenTelemetry: WapBridge's own meter and traces plus ASP.NET Core, HttpClient, runtime and EF Core instrumentation,
/// scraped at <c>/metrics</c> (Prometheus text) by an Admin's session or API key or the admin token, and pushed over
/// OTLP when <see cref="TelemetryOptions.OtlpEndpoint"/> is set.
/// </summary>
public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";
    public const string MetricsPolicy = "metrics";

    public static WebApplicationBuilder AddWapBridgeTelemetry(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(TelemetryOptions.Section);
        builder.Services.AddValidatedOptions<TelemetryOptions>(section, Problems);
        var telemetry = section.Get<TelemetryOptions>() ?? new TelemetryOptions();

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("wapbridge", serviceInstanceId: InstancesServiceCollectionExtensions.NodeId(builder)))
            .WithTracing(tracing =>
            {
                tracing.AddSource(WapBridgeTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                    .AddHttpClientInstrumentation();
                if (telemetry.OtlpEndpoint is { } endpoint)
                    tracing.AddEntityFrameworkCoreInstrumentation().AddOtlpExporter(o => o.Endpoint = endpoint);
            });
        if (telemetry.Metrics)
        {
            otel.WithMetrics(metrics =>
            {
                metrics.AddMeter(WapBridgeTelemetry.Name, "Microsoft.EntityFrameworkCore")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (telemetry.OtlpEndpoint is { } endpoint)
                    metrics.AddOtlpExporter(o => o.Endpoint = endpoint);
            });
        }

        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, MetricsAuthenticationHandler>(MetricsAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(MetricsPolicy, p => p
            .AddAuthenticationSchemes(MetricsAuthenticationHandler.SchemeName)
            .RequireRole(Roles.Admin));
        return builder;
    }

    public static WebApplication MapWapBridgeMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.Metrics)
            app.MapPrometheusScrapingEndpoint(MetricsPath).RequireAuthorization(MetricsPolicy);
        else
            // A scraper left pointing at a server whose metrics were turned off learns why, not the dashboard's HTML page.
            app.MapGet(MetricsPath, (HttpContext context) => new FrappeError(StatusCodes.Status404NotFound, "DoesNotExistError", "metrics_disabled",
                $"Metrics are turned off on this server: set {ValidatedOptions.Setting(TelemetryOptions.Section, nameof(TelemetryOptions.Metrics))} to true to serve /metrics")
                .WriteAsync(context)).ExcludeFromDescription();
        return app;
    }

    private static IEnumerable<string> Problems(TelemetryOptions options)
    {
        if (options.GaugeInterval < TimeSpan.FromSeconds(1))
            yield return $"{ValidatedOptions.Setting(TelemetryOptions.Section, nameof(TelemetryOptions.GaugeInterval))} is {options.GaugeInterval}; it must be at least 00:00:01";
        if (options.OtlpEndpoint is { IsAbsoluteUri: false } or { Scheme: not ("http" or "https") })
            yield return $"{ValidatedOptions.Setting(TelemetryOptions.Section, nameof(TelemetryOptions.OtlpEndpoint))} must be an absolute http:// or https:// address, such as http://collector:4317";
    }
}
