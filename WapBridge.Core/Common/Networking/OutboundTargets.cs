using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace WapBridge.Core.Common.Networking;

/// <summary>What an address reaches, for deciding whether a tenant's URL (a webhook, a media_url) may be reached.</summary>
public enum TargetKind
{
    /// <summary>A globally reachable unicast address.</summary>
    Public,

    /// <summary>This machine: 127.0.0.0/8, ::1, or one of the host's own interface addresses.</summary>
    Loopback,

    /// <summary>A private network: 10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16, fc00::/7, fe80::/10, fec0::/10.</summary>
    Private,

    /// <summary>Any other special-purpose address (documentation, benchmarking, multicast, translation prefixes …): never a webhook target.</summary>
    Reserved,
}

/// <summary>
/// Which non-public targets tenant-chosen URLs may reach. Bound from <c>WapBridge:Webhooks</c> (its
/// <c>AllowLoopbackTargets</c> / <c>AllowPrivateTargets</c>): one setting governs every outbound URL a tenant picks.
/// </summary>
public sealed class OutboundTargetPolicy
{
    // Not named Section: the webhook settings own that section; this reads two of its keys.
    public const string BoundFrom = "WapBridge:Webhooks";

    public bool AllowPrivateTargets { get; set; }

    public bool AllowLoopbackTargets { get; set; }
}

/// <summary>
/// Keeps tenant-chosen URLs (webhooks, <c>media_url</c>) from reaching the server's own network: loopback, private and
/// every other special-purpose address (the IANA IPv4 and IPv6 special-purpose registries, IPv4 inside IPv6, the host's
/// own addresses) are refused unless the policy allows them. Checked on the address actually connected to, so a DNS
/// name that resolves inwards, now or later, is caught too.
/// </summary>
public static class OutboundTargets
{
    /// <summary>Classifies an address; <paramref name="ownAddresses"/> are the host's interface addresses (see <see cref="HostAddresses"/>).</summary>
    public static TargetKind Classify(IPAddress address, IReadOnlySet<IPAddress>? ownAddresses = null)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.IsIPv4MappedToIPv6)
                return Classify(address.MapToIPv4(), ownAddresses);
            address = new IPAddress(address.GetAddressBytes());  // without its scope id, to compare with the host's own
        }
        if (ownAddresses is not null && ownAddresses.Contains(address))
            return TargetKind.Loopback;
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => ClassifyV4(address.GetAddressBytes()),
            AddressFamily.InterNetworkV6 => ClassifyV6(address.GetAddressBytes()),
            _ => TargetKind.Reserved,
        };
    }

    public static bool IsAllowed(IPAddress address, OutboundTargetPolicy policy, IReadOnlySet<IPAddress>? ownAddresses = null) =>
        Classify(address, ownAddresses) switch
        {
            TargetKind.Public => true,
            TargetKind.Loopback => policy.AllowLoopbackTargets || policy.AllowPrivateTargets,
            TargetKind.Private => policy.AllowPrivateTargets,
            _ => false,
        };

    private static TargetKind ClassifyV4(byte[] b) => b switch
    {
        [127, ..] => TargetKind.Loopback,
        [10, ..] or [172, >= 16 and <= 31, ..] or [192, 168, ..] => TargetKind.Private,
        [100, >= 64 and <= 127, ..] => TargetKind.Private,  // shared address space (carrier-grade NAT)
        [169, 254, ..] => TargetKind.Private,  // link-local
        [0, ..] => TargetKind.Reserved,  // "this network"
        [192, 0, 0, _] or [192, 0, 2, _] or [192, 88, 99, _] or [198, 18 or 19, ..] or [198, 51, 100, _] or [203, 0, 113, _] => TargetKind.Reserved,
        [>= 224, ..] => TargetKind.Reserved,  // multicast, 240/4 and the broadcast address
        _ => TargetKind.Public,
    };

    private static TargetKind ClassifyV6(byte[] b)
    {
        ReadOnlySpan<byte> a = b;
        if (a[..15].IndexOfAnyExcept((byte)0) < 0)
            return a[15] == 1 ? TargetKind.Loopback : TargetKind.Reserved;  // ::1, and :: itself
        // NAT64 well-known prefix 64:ff9b::/96: the IPv4 address it stands for decides.
        if (a[..12].SequenceEqual(Nat64Prefix))
            return ClassifyV4(b[12..]) == TargetKind.Public ? TargetKind.Public : TargetKind.Reserved;
        // 6to4 2002::/16 carries the IPv4 address of the relay-side host in bits 16–47.
        if (a[0] == 0x20 && a[1] == 0x02)
            return ClassifyV4(b[2..6]) == TargetKind.Public ? TargetKind.Public : TargetKind.Reserved;
        if ((a[0] & 0xfe) == 0xfc)
            return TargetKind.Private;  // unique local fc00::/7
        if (a[0] == 0xfe && (a[1] & 0xc0) is 0x80 or 0xc0)
            return TargetKind.Private;  // link-local fe80::/10 and the old site-local fec0::/10
        // Everything outside global unicast 2000::/3 is special: ::/8 (IPv4-compatible and -translated forms),
        // 64:ff9b:1::/48 (local NAT64), 100::/64 (discard), ff00::/8 (multicast) …
        if ((a[0] & 0xe0) != 0x20)
            return TargetKind.Reserved;
        // Inside 2000::/3: 2001::/23 (IETF protocol assignments, Teredo 2001::/32 among them), 2001:db8::/32 and
        // 3fff::/20 (documentation).
        if (a[0] == 0x20 && a[1] == 0x01 && a[2] <= 0x01)
            return TargetKind.Reserved;
        if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
            return TargetKind.Reserved;
        if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0)
            return TargetKind.Reserved;
        return TargetKind.Public;
    }

    private static readonly byte[] Nat64Prefix = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The address a URL's host is written as, without any DNS lookup; "localhost" names count as loopback.</summary>
    public static IPAddress? LiteralAddress(Uri uri)
    {
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(uri.DnsSafeHost, out var literal))
            return literal;
        var host = uri.IdnHost.TrimEnd('.');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback : null;
    }

    /// <summary>
    /// A connect callback for SocketsHttpHandler: resolves the host through <paramref name="connector"/> (a literal
    /// address needs no lookup), keeps the addresses the policy allows, and connects only to those, so what was
    /// checked is what is connected to. When none is allowed, <paramref name="refused"/> is thrown before any connect.
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(Func<OutboundTargetPolicy> policy,
        OutboundConnector connector, Func<string, TargetRefusedException> refused) =>
        async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host.TrimStart('[').TrimEnd(']'), out var literal) ? [literal]
                : await connector.ResolveAsync(host, ct);
            var own = HostAddresses.Current;
            var current = policy();
            var allowed = addresses.Where(a => IsAllowed(a, current, own)).ToArray();
            if (allowed.Length == 0)
                throw refused(host);
            return await connector.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
        };
}

/// <summary>A target whose addresses are all refused by <see cref="OutboundTargets"/>; thrown before any connection is attempted.</summary>
public class TargetRefusedException(string message) : IOException(message);

/// <summary>
/// The host's own interface addresses: reaching them is reaching this machine, whatever range they are in.
/// Read again now and then, since interfaces come and go.
/// </summary>
public static class HostAddresses
{
    private static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(30);
    private static volatile Snapshot? _snapshot;

    private sealed record Snapshot(IReadOnlySet<IPAddress> Addresses, long ReadAt);

    public static IReadOnlySet<IPAddress> Current
    {
        get
        {
            var snapshot = _snapshot;
            if (snapshot is null || Environment.TickCount64 - snapshot.ReadAt > RefreshAfter.TotalMilliseconds)
                _snapshot = snapshot = new Snapshot(Read(), Environment.TickCount64);
            return snapshot.Addresses;
        }
    }

    private static HashSet<IPAddress> Read()
    {
        var addresses = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                    addresses.Add(unicast.Address.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(unicast.Address.GetAddressBytes()) : unicast.Address);
        }
        catch (NetworkInformationException)
        {
            // Without the list, the range checks still refuse loopback and private addresses.
        }
        return addresses;
    }
}

