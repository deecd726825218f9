using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.HttpOverrides;

namespace WapBridge.Web.Hosting;

/// <summary>Section <c>WapBridge:ForwardedHeaders</c>.</summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "WapBridge:ForwardedHeaders";

    /// <summary>
    /// Reverse proxies (addresses, or networks such as <c>10.0.0.0/8</c>) whose X-Forwarded-For, -Proto and -Host are
    /// believed. Empty by default: anyone can send those headers, so unlisted senders' are ignored.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];
}

/// <summary>Running behind a reverse proxy: whose forwarded headers count, and cookies that stay on HTTPS.</summary>
public static class ProxySetup
{
    public static IServiceCollection AddWapBridgeProxySupport(this IServiceCollection services, IConfiguration configuration)
    {
        var (proxies, networks) = ParseKnownProxies(configuration.GetSection(ForwardedHeadersSettings.Section + ":KnownProxies"));
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // ASP.NET trusts loopback by default; a WapBridge without a listed proxy trusts no one.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            // The obsolete list is still consulted and holds 127.0.0.0/8 by default.
#pragma warning disable ASPDEPR005
            o.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            // Walk back through every listed proxy of a chain (CDN, then nginx), stopping at the first unlisted sender.
            o.ForwardLimit = null;
            foreach (var proxy in proxies)
                o.KnownProxies.Add(proxy);
            foreach (var network in networks)
                o.KnownIPNetworks.Add(network);
        });

        // Secure whenever the request is HTTPS, which includes HTTPS that ended at a listed proxy.
        services.PostConfigureAll<CookieAuthenticationOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        services.PostConfigure<AntiforgeryOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        return services;
    }

    /// <summary>Honours forwarded headers from the listed proxies only.</summary>
    public static WebApplication UseWapBridgeForwardedHeaders(this WebApplication app)
    {
        // With both lists empty the middleware believes every sender, so without a listed proxy it must not run at all.
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        if (options.KnownProxies.Count > 0 || options.KnownIPNetworks.Count > 0)
            app.UseForwardedHeaders();
        return app;
    }

    /// <summary>A list (<c>KnownProxies:0</c>, …) or one comma-separated value, as an environment variable is easier to write.</summary>
    internal static (List<IPAddress> Proxies, List<System.Net.IPNetwork> Networks) ParseKnownProxies(IConfigurationSection section)
    {
        var entries = section.GetChildren().Select(c => c.Value).Append(section.Value)
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var proxies = new List<IPAddress>();
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in entries)
        {
            if (entry.Contains('/') && System.Net.IPNetwork.TryParse(entry, out var network))
                networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address))
                proxies.Add(address);
            else
                throw new InvalidOperationException(
                    $"WAPBRIDGE_ForwardedHeaders__KnownProxies (WapBridge:ForwardedHeaders:KnownProxies): '{entry}' is not an IP address "
                    + "or network; list your reverse proxies as e.g. 10.0.0.5 or 10.0.0.0/8, separated by commas.");
        }
        return (proxies, networks);
    }
}
