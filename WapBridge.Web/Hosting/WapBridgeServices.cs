using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;
using WapBridge.Core;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Web.Api;
using WapBridge.Web.Api.Frappe;
using WapBridge.Web.Components;

namespace WapBridge.Web.Hosting;

/// <summary>The composition root, split from Program.cs so tests and tools build the same host.</summary>
public static class WapBridgeServices
{
    public const string DefaultUrls = "http://localhost:5080";

    /// <summary>
    /// True when neither <c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>DOTNET_URLS</c>, <c>URLS</c> nor a <c>urls</c> key chose
    /// where to listen (all of them land on the <c>urls</c> key), and no <c>HTTP_PORTS</c>/<c>HTTPS_PORTS</c> either
    /// (container images set <c>ASPNETCORE_HTTP_PORTS</c>).
    /// </summary>
    private static bool ListenAddressUnset(IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
        && string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
        && string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey]);

    public static WebApplicationBuilder AddWapBridge(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddWapBridgeEnvironmentVariables();
        var configuration = builder.Configuration;
        // The default listen address lives here, not in appsettings.json: app configuration is read after host
        // configuration, so a Urls key there outranked ASPNETCORE_URLS. Any way of choosing one wins over it.
        if (ListenAddressUnset(configuration))
            builder.WebHost.UseUrls(DefaultUrls);
        var services = builder.Services;

        var root = configuration.GetSection(WapBridgeOptions.Section).Get<WapBridgeOptions>() ?? new WapBridgeOptions();
        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var api = configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        var hangfire = configuration.GetSection(HangfireOptions.Section).Get<HangfireOptions>() ?? new HangfireOptions();
        if (root.AdminToken is { Length: > 0 and < WapBridgeOptions.MinAdminTokenLength } adminToken)
            throw new InvalidOperationException(
                $"WAPBRIDGE_ADMIN_TOKEN (WapBridge:AdminToken) is {adminToken.Length} characters long; it must be at least {WapBridgeOptions.MinAdminTokenLength} "
                + "(e.g. the output of `openssl rand -hex 32`), or be unset. WapBridge does not start with a guessable admin token.");
        if (root.PublicBaseUrl is { Length: > 0 } publicBase
            && !(Uri.TryCreate(publicBase, UriKind.Absolute, out var publicUri) && publicUri.Scheme is "http" or "https"))
            throw new InvalidOperationException(
                $"WAPBRIDGE_PublicBaseUrl (WapBridge:PublicBaseUrl) '{publicBase}' is not an absolute http or https URL, e.g. https://wapbridge.example.com");
        var dataDir = root.ResolvedDataDir;
        Directory.CreateDirectory(dataDir);

        services.Configure<WapBridgeOptions>(configuration.GetSection(WapBridgeOptions.Section));
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.Section));
        services.Configure<ApiOptions>(configuration.GetSection(ApiOptions.Section));
        services.Configure<HangfireOptions>(configuration.GetSection(HangfireOptions.Section));

        services.AddSingleton(TimeProvider.System);
        services.AddMemoryCache();
        services.AddWapBridgeDatabase(database, dataDir);
        // In the database, so every node sharing it decrypts what any node encrypted; key files of older releases in
        // <data>/keys are imported at start (UseWapBridgeAsync).
        services.AddDataProtection()
            .SetApplicationName("WapBridge")
            .PersistKeysToDbContext<WapBridgeDbContext>();

        // Host-provided parts of Core features, then Core itself, which owns the order of the hosted services.
        services.AddSingleton<ServerPublicUrls>();
        services.AddSingleton<IPublicUrls>(sp => sp.GetRequiredService<ServerPublicUrls>());
        services.AddSingleton<ICampaignScheduler, HangfireCampaignScheduler>();
        services.AddHostedService<SetupTokenAnnouncer>();
        builder.AddWapBridgeCore(database, dataDir);

        services.AddIdentityCore<WapBridgeUser>(o =>
            {
                o.SignIn.RequireConfirmedAccount = false;
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 8;
                o.Password.RequireNonAlphanumeric = false;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<WapBridgeDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders()
            .AddClaimsPrincipalFactory<WapBridgeClaimsPrincipalFactory>();

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = IdentityConstants.ApplicationScheme;
                o.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiPolicies.Scheme, null)
            .AddIdentityCookies();

        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Customer, p => p.AddAuthenticationSchemes(ApiPolicies.Scheme).RequireAuthenticatedUser())
            .AddPolicy(ApiPolicies.Admin, p => p.AddAuthenticationSchemes(ApiPolicies.Scheme).RequireRole(Roles.Admin))
            .AddPolicy(HangfireSetup.DashboardPolicy, p => p.RequireRole(Roles.Admin));

        services.AddWapBridgeProxySupport(configuration);
        services.AddApiRateLimiting(api.RateLimit);
        services.AddSingleton<LargeBodyGate>();
        services.AddSingleton<AuthFailureLimiter>();
        services.Configure<FormOptions>(o =>
        {
            o.ValueLengthLimit = (int)Math.Min(int.MaxValue, api.MaxRequestBodyBytes);
            o.MultipartBodyLengthLimit = api.MaxRequestBodyBytes;
        });
        services.ConfigureHttpJsonOptions(o => FrappeJson.Configure(o.SerializerOptions));

        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "WapBridge API";
            doc.Info.Description = "Frappe-style WhatsApp gateway API. Authenticate with 'Authorization: token <api_key>:<api_secret>'. "
                + "Every method answers under /api/method/ and /api/v1/method/; success is {\"message\": …}; errors carry exc_type, exception, _server_messages and error.";
            return Task.CompletedTask;
        }).AddSchemaTransformer(MediaArgumentSchema.Describe).AddSchemaTransformer(FrappeOpenApi.DescribeArguments)
            .AddDocumentTransformer(FrappeOpenApi.DescribeSecurity));

        services.AddWapBridgeHangfire(database, dataDir, hangfire, InstancesServiceCollectionExtensions.NodeId(builder));
        services.AddWapBridgeDashboard();
        builder.AddWapBridgeTelemetry();
        return builder;
    }

    /// <summary>Media files an older release kept in <c>&lt;data&gt;/media</c> move into the shared store (database or shared folder).</summary>
    private static async Task ImportLegacyMediaAsync(WebApplication app)
    {
        var legacyRoot = Path.Combine(app.Services.GetRequiredService<IOptions<WapBridgeOptions>>().Value.ResolvedDataDir, "media");
        var store = app.Services.GetRequiredService<IMediaStore>();
        if (store is MediaStore local && Path.GetFullPath(local.Root) == legacyRoot)
            return;
        var imported = await LegacyMediaImport.ImportAsync(store, legacyRoot);
        if (imported > 0)
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("WapBridge.Media")
                .LogInformation("Moved {Count} media files from {Folder} into the shared media store", imported, legacyRoot);
    }

    public static async Task<WebApplication> UseWapBridgeAsync(this WebApplication app)
    {
        await DatabaseMigrator.MigrateAsync(
            app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(),
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("WapBridge.Database"));
        await DataProtectionKeyImport.ImportAsync(
            app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(),
            Path.Combine(app.Services.GetRequiredService<IOptions<WapBridgeOptions>>().Value.ResolvedDataDir, "keys"),
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("WapBridge.DataProtection"));
        await ImportLegacyMediaAsync(app);
        HangfireSetup.ScheduleMaintenanceJobs(app.Services.GetRequiredService<IRecurringJobManager>());

        // The server listens while the node is still starting: everything but "is the process up" waits until the
        // instances that should be connected are resumed (as when sessions were opened before the server started).
        var readiness = app.Services.GetRequiredService<ClusterReadiness>();
        app.Use(async (context, next) =>
        {
            if (!readiness.InstancesResumed && !context.Request.Path.StartsWithSegments("/healthz"))
                await readiness.WaitForInstancesAsync(context.RequestAborted);
            await next(context);
        });
        app.UseWapBridgeForwardedHeaders();
        app.UseWapBridgeSecurityHeaders();
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        // API and media clients get JSON, never the dashboard's HTML "not found" page.
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/media"))
                context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
            return next(context);
        });

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteHealthAsync });
        app.MapOpenApi("/openapi/{documentName}.json");
        // Self-contained: served from this server only (no fonts, CDN, proxy, telemetry or cloud client), so it works offline.
        app.MapScalarApiReference("/api-reference", o => o.WithTitle("WapBridge API").WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .DisableDefaultFonts().DisableTelemetry().DisableAgent().DisableMcp().HideClientButton().HideDeveloperTools()
            .AddPreferredSecuritySchemes(FrappeOpenApi.TokenScheme).AddHeadContent(FrappeOpenApi.AccessibleReferenceHead));
        app.MapWapBridgeApi();
        app.MapWapBridgeMetrics();
        app.MapWapBridgeHangfireDashboard();
        app.MapWapBridgeDashboard();

        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("WapBridge is listening on {Urls}; data in {DataDir}",
                string.Join(", ", app.Urls), app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WapBridgeOptions>>().Value.ResolvedDataDir));
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description }),
        }));
    }
}
