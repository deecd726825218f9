using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using WapBridge.Core.Common.Networking;
using WapBridge.Tests.TestHost;
using Xunit.Sdk;
using Xunit.v3;

[assembly: NetworkGuard.FailTestsThatReachOut]
[assembly: AssemblyFixture(typeof(NetworkGuard.LeftoverCheck))]

namespace WapBridge.Tests.TestHost;

/// <summary>A connection or lookup the network guard stopped (or, outside the product's connector, saw).</summary>
public sealed record NetworkViolation(string What, string? TestId, string? TestName);

/// <summary>Thrown by <see cref="LoopbackOnlyConnector"/> instead of resolving or connecting.</summary>
public sealed class NetworkRefusedException(string message) : IOException(message);

/// <summary>
/// No test may send a packet anywhere but 127.0.0.0/8 and ::1, nor look up any name but <c>localhost</c>.
/// The product's clients connect through <see cref="OutboundConnector"/>, which every test host replaces with
/// <see cref="LoopbackOnlyConnector"/>: it refuses before a lookup or a socket exists. Anything else in this
/// process (test-side clients, libraries) is watched through the runtime's name-resolution and socket events.
/// Either way the violation is recorded and fails the test that caused it (or, when no test can be told, the next
/// test to finish, and the run at the end).
/// </summary>
public static class NetworkGuard
{
    private static readonly ConcurrentQueue<NetworkViolation> Violations = new();
    private static Watcher? _watcher;

    /// <summary>Installs the process-wide watch as soon as the test assembly loads, before any test or fixture.</summary>
    [ModuleInitializer]
    internal static void Install() => _watcher ??= new Watcher();

    public static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>Loopback literals and <c>localhost</c>, the only names a test may resolve.</summary>
    public static bool IsAllowedHost(string host)
    {
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out var literal)
            ? IsLoopback(literal)
            : string.Equals(bare.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Records and answers a refusal; <paramref name="owner"/> is blamed when no test is running on this flow.</summary>
    public static NetworkRefusedException Refuse(string what, ITest? owner = null)
    {
        Record(what, owner);
        return new NetworkRefusedException(
            $"the test network guard refused {what}: tests may only reach 127.0.0.0/8, ::1 and localhost (use a loopback port or a .invalid name)");
    }

    private static void Record(string what, ITest? owner = null)
    {
        var test = TestContext.Current.Test ?? owner;
        Violations.Enqueue(new NetworkViolation(what, test?.UniqueID, test?.TestDisplayName));
    }

    /// <summary>
    /// Takes the violations matching <paramref name="expected"/> back, so that they do not fail the test: for tests
    /// that provoke refusals on purpose.
    /// </summary>
    public static IReadOnlyList<NetworkViolation> Take(Func<NetworkViolation, bool> expected) => TakeWhere(expected);

    private static List<NetworkViolation> TakeWhere(Func<NetworkViolation, bool> predicate)
    {
        lock (Violations)
        {
            var all = new List<NetworkViolation>();
            while (Violations.TryDequeue(out var violation))
                all.Add(violation);
            var taken = all.Where(predicate).ToList();
            foreach (var kept in all.Except(taken))
                Violations.Enqueue(kept);
            return taken;
        }
    }

    private static string Describe(IEnumerable<NetworkViolation> violations) =>
        string.Join(Environment.NewLine, violations.Select(v => $"  {v.What}" + (v.TestName is null ? "" : $" (during {v.TestName})")));

    /// <summary>Fails a test whose code reached out, or that finished while an unattributed violation was pending.</summary>
    [AttributeUsage(AttributeTargets.Assembly)]
    public sealed class FailTestsThatReachOutAttribute : BeforeAfterTestAttribute
    {
        public override void After(MethodInfo methodUnderTest, IXunitTest test)
        {
            var mine = TakeWhere(v => v.TestId is null || v.TestId == test.UniqueID);
            if (mine.Count > 0)
                throw new XunitException($"This test reached outside loopback (tests may only use 127.0.0.0/8, ::1 and localhost):{Environment.NewLine}{Describe(mine)}");
        }
    }

    /// <summary>Fails the run for violations no test claimed (e.g. in a fixture's teardown).</summary>
    public sealed class LeftoverCheck : IDisposable
    {
        public void Dispose()
        {
            var left = TakeWhere(_ => true);
            if (left.Count > 0)
                throw new InvalidOperationException($"Tests reached outside loopback:{Environment.NewLine}{Describe(left)}");
        }
    }

    /// <summary>
    /// The runtime's own events for every DNS resolution and socket connect in the process. It can only report
    /// (the packet is on its way by then), which is why the product's clients go through the refusing connector.
    /// </summary>
    internal sealed class Watcher : EventListener
    {
        private static long _connectsSeen;

        /// <summary>Every connect the watch saw, loopback included: proof that it is listening.</summary>
        public static long ConnectsSeen => Interlocked.Read(ref _connectsSeen);

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name is "System.Net.NameResolution" or "System.Net.Sockets")
                EnableEvents(source, EventLevel.Informational);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.Payload is not [string target, ..])
                return;
            // Dns.GetHostName() (Orleans reads the machine's name) reports an empty target: a local call, no lookup.
            if (e.EventName == "ResolutionStart" && target.Length > 0 && !IsAllowedHost(target))
                Record($"a DNS lookup of {target}");
            if (e.EventName != "ConnectStart")
                return;
            Interlocked.Increment(ref _connectsSeen);
            if (ParseSocketAddress(target) is { } address && !IsLoopback(address))
                Record($"a connection to {address}");
        }

        /// <summary>
        /// <see cref="SocketAddress.ToString"/> as the Sockets event writes it, the bytes after the family:
        /// <c>InterNetwork:16:{0,80,127,0,0,1,…}</c> (port, then the IPv4 address) or
        /// <c>InterNetworkV6:28:{port(2),flow(4),address(16),scope(4)}</c>. Null for anything else (Unix sockets are no network).
        /// </summary>
        public static IPAddress? ParseSocketAddress(string text)
        {
            var colon = text.IndexOf(':');
            var open = text.IndexOf('{');
            if (colon < 0 || open < colon || !text.EndsWith('}'))
                return null;
            var family = text[..colon];
            var bytes = text[(open + 1)..^1].Split(',').Select(b => byte.TryParse(b, out var v) ? v : (byte)0).ToArray();
            return family switch
            {
                nameof(AddressFamily.InterNetwork) when bytes.Length >= 6 => new IPAddress(bytes.AsSpan(2, 4)),
                nameof(AddressFamily.InterNetworkV6) when bytes.Length >= 22 => new IPAddress(bytes.AsSpan(6, 16)),
                _ => null,
            };
        }
    }
}

/// <summary>
/// The test hosts' <see cref="OutboundConnector"/>: loopback passes to the real connector, everything else is refused
/// (and recorded) before a lookup or a socket exists.
/// </summary>
public sealed class LoopbackOnlyConnector(OutboundConnector? inner = null) : OutboundConnector
{
    private readonly OutboundConnector _inner = inner ?? new OutboundConnector();

    // A host's background work (the webhook dispatcher, requests through the in-memory test server) does not run
    // on the test's flow; a host built inside a test is that test's.
    private readonly ITest? _owner = TestContext.Current.Test;

    public override async ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        // A literal needs no lookup; whether it may be connected to is ConnectAsync's decision.
        if (IPAddress.TryParse(host.TrimStart('[').TrimEnd(']'), out var literal))
            return [literal];
        if (!NetworkGuard.IsAllowedHost(host))
            throw NetworkGuard.Refuse($"a DNS lookup of {host}", _owner);
        var addresses = await _inner.ResolveAsync(host, ct);
        if (addresses.FirstOrDefault(a => !NetworkGuard.IsLoopback(a)) is { } outside)
            throw NetworkGuard.Refuse($"{host}, which resolved to {outside}", _owner);
        return addresses;
    }

    public override ValueTask<NetworkStream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken ct)
    {
        if (addresses.FirstOrDefault(a => !NetworkGuard.IsLoopback(a)) is { } outside)
            throw NetworkGuard.Refuse($"a connection to {new IPEndPoint(outside, port)}", _owner);
        return _inner.ConnectAsync(addresses, port, ct);
    }
}
