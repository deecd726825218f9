using System.Net;
using System.Net.Sockets;

namespace WapBridge.Core.Common.Networking;

/// <summary>
/// The one way the product resolves names and opens outbound connections: every HttpClient it creates connects
/// through a <see cref="SocketsHttpHandler.ConnectCallback"/> that calls this singleton. The test hosts replace it
/// with a guard that refuses anything but loopback before a lookup or a connect happens.
/// </summary>
public class OutboundConnector
{
    public virtual async ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        await Dns.GetHostAddressesAsync(host, ct);

    /// <summary>Connects to the first of <paramref name="addresses"/> that answers; the stream owns the socket.</summary>
    public virtual async ValueTask<NetworkStream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
