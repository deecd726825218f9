using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Hosting.StaticWebAssets;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.FileProviders;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Web.Components.Account;

namespace WapBridge.Web.Components;

/// <summary>The browser dashboard: Blazor Server + MudBlazor, with static-SSR account pages.</summary>
public static class DashboardServices
{
    /// <summary>URL prefix of our own static files (wwwroot-assets next to the binary).</summary>
    public const string AssetsPath = "/assets";

    public static IServiceCollection AddWapBridgeDashboard(this IServiceCollection services)
    {
        services.AddAntiforgery();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
        services.AddScoped<IdentityRedirectManager>();
        services.AddSingleton<IEmailSender<WapBridgeUser>, LogEmailSender>();
        services.AddScoped<UserAdministration>();
        services.AddMudServices();
        return services;
    }

    public static void MapWapBridgeDashboard(this WebApplication app)
    {
        var assets = Path.Combine(AppContext.BaseDirectory, "wwwroot-assets");
        Directory.CreateDirectory(assets);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(assets),
            RequestPath = AssetsPath,
        });

        // Run from a build folder (tests, `dotnet run` outside Development), Blazor's and MudBlazor's files live in
        // their packages and are found through the static web assets manifest; after `dotnet publish` there is no
        // such manifest and this does nothing, as the files are then copied into wwwroot.
        if (!app.Environment.IsDevelopment())
            StaticWebAssetsLoader.UseStaticWebAssets(app.Environment, app.Configuration);
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapAccountEndpoints();
    }
}
