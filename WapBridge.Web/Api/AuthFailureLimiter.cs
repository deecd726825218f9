using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace WapBridge.Web.Api;

/// <summary>
/// Counts failed API authentications per client address in fixed windows. Past the limit, failures answer 429 with
/// Retry-After instead of 401/400. It only ever sees failures: valid credentials are never counted or limited, so
/// ERPNext behind a proxy keeps working while another client at the same address guesses.
/// </summary>
public sealed class AuthFailureLimiter(IOptions<ApiOptions> options, TimeProvider time, ILogger<AuthFailureLimiter> logger)
{
    // Expired windows are dropped when the table grows past this, so rotating addresses cannot grow it for ever.
    private const int SweepAbove = 10_000;

    private readonly ConcurrentDictionary<string, FailureWindow> _windows = new();

    /// <summary>Counts one failure from <paramref name="address"/>; the wait until its window ends once it is over the limit.</summary>
    public TimeSpan? RecordFailure(IPAddress? address)
    {
        var settings = options.Value.AuthFailures;
        if (settings.Limit <= 0 || settings.Window <= TimeSpan.Zero)
            return null;

        var now = time.GetUtcNow();
        var client = ClientKey(address);
        var window = _windows.AddOrUpdate(client,
            _ => new FailureWindow(now, 1),
            (_, current) => now - current.Start >= settings.Window ? new FailureWindow(now, 1) : current with { Count = current.Count + 1 });
        if (_windows.Count > SweepAbove)
            Sweep(now, settings.Window);

        if (window.Count <= settings.Limit)
            return null;
        if (window.Count == settings.Limit + 1)
            logger.LogWarning("{Failures} failed API authentications from {Client} within {Window}; its further failures answer 429 until the window ends",
                window.Count, client, settings.Window);
        var wait = window.Start + settings.Window - now;
        return wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1);
    }

    /// <summary>IPv6 clients are counted per /64: one host usually holds the whole prefix and could rotate through it.</summary>
    internal static string ClientKey(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IsLoopback(address))
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private void Sweep(DateTimeOffset now, TimeSpan window)
    {
        foreach (var (client, entry) in _windows)
            if (now - entry.Start >= window)
                _windows.TryRemove(KeyValuePair.Create(client, entry));
    }

    private sealed record FailureWindow(DateTimeOffset Start, int Count);
}
