using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WapBridge.Bench;

/// <summary>
/// A loopback webhook receiver in the benchmark process (Kestrel minimal API): <c>POST /hook</c> answers 200,
/// or 503 while <see cref="Down"/>; counts requests, answers by status, and distinct <c>webhook-id</c> headers.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);
    private long _requests, _ok, _unavailable, _withoutId, _lastNewIdAt;

    public Uri HookUrl { get; private set; } = null!;

    /// <summary>Answer 503 instead of 200 (the receiver is "down").</summary>
    public volatile bool Down;

    public long Requests => Interlocked.Read(ref _requests);
    public long Answered200 => Interlocked.Read(ref _ok);
    public long Answered503 => Interlocked.Read(ref _unavailable);
    public long WithoutId => Interlocked.Read(ref _withoutId);
    /// <summary>Distinct webhook-ids answered 200 (delivered).</summary>
    public long DistinctDelivered => _ids.Count;
    /// <summary>Stopwatch timestamp of the last request that brought a new webhook-id (0 before any).</summary>
    public long LastNewIdAt => Interlocked.Read(ref _lastNewIdAt);

    private WebhookReceiver(WebApplication app) => _app = app;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            // Read the whole body, as a real receiver would, then answer.
            var buffer = new byte[8192];
            while (await http.Request.Body.ReadAsync(buffer, http.RequestAborted) > 0) { }
            Interlocked.Increment(ref receiver._requests);
            if (receiver.Down)
            {
                Interlocked.Increment(ref receiver._unavailable);
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            var id = http.Request.Headers["webhook-id"].ToString();
            if (id.Length == 0)
                Interlocked.Increment(ref receiver._withoutId);
            else if (receiver._ids.TryAdd(id, 0))
                Interlocked.Exchange(ref receiver._lastNewIdAt, Stopwatch.GetTimestamp());
            Interlocked.Increment(ref receiver._ok);
            http.Response.StatusCode = StatusCodes.Status200OK;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.HookUrl = new Uri(new Uri(address.Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1")), "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
