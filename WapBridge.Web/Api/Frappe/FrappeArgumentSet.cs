using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Primitives;
using WapBridge.Core.Messaging;

namespace WapBridge.Web.Api.Frappe;

/// <summary>One argument as it arrived: a JSON value, form or query text, or a file streamed into the media store.</summary>
public readonly struct RawArgument
{
    private readonly JsonElement _json;
    private readonly StringValues _text;
    private readonly MediaUpload? _media;

    private RawArgument(ArgumentSource source, JsonElement json, StringValues text, MediaUpload? media)
    {
        Source = source;
        _json = json;
        _text = text;
        _media = media;
    }

    public ArgumentSource Source { get; }
    public JsonElement Json => Source == ArgumentSource.Json ? _json : throw new InvalidOperationException();
    public StringValues Text => Source == ArgumentSource.Text ? _text : throw new InvalidOperationException();
    public MediaUpload Media => Source == ArgumentSource.Media ? _media! : throw new InvalidOperationException();

    public static RawArgument FromJson(JsonElement value) => new(ArgumentSource.Json, value, default, null);
    public static RawArgument FromText(StringValues value) => new(ArgumentSource.Text, default, value, null);
    public static RawArgument FromMedia(MediaUpload value) => new(ArgumentSource.Media, default, default, value);
}

public enum ArgumentSource { Json, Text, Media }

/// <summary>
/// The arguments of one request, by name (a later duplicate replaces an earlier one, contract §1), with what backs
/// them: parsed JSON documents and their pooled buffer, and media uploads. Disposed when the request is answered.
/// </summary>
public sealed class FrappeArgumentSet : IAsyncDisposable
{
    private readonly Dictionary<string, RawArgument> _arguments = new(StringComparer.Ordinal);
    private readonly List<JsonDocument> _documents = [];
    private readonly List<MediaUpload> _uploads = [];
    private byte[]? _rented;

    internal void Set(string name, RawArgument value) => _arguments[name] = value;

    internal bool TryGetExact(string name, out RawArgument value) => _arguments.TryGetValue(name, out value);

    /// <summary>The names as sent, in the order first sent.</summary>
    public IEnumerable<string> Names => _arguments.Keys;

    internal void Own(JsonDocument document) => _documents.Add(document);

    internal void Own(MediaUpload upload) => _uploads.Add(upload);

    /// <summary>The pooled buffer the JSON documents read from, returned once they are disposed.</summary>
    internal void Own(byte[] rented) => _rented = rented;

    /// <summary>The argument called <paramref name="name"/>, or else the one whose name differs only in case.</summary>
    public bool TryGet(string name, out RawArgument value)
    {
        if (_arguments.TryGetValue(name, out value))
            return true;
        foreach (var (key, candidate) in _arguments)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// What makes two requests "the same" for Idempotency-Key: the method and every argument's bytes as sent
    /// (a file by its content hash). Hashes the raw bytes, so no text needs to be valid Unicode and nothing is copied.
    /// </summary>
    public string Hash(string method)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(sha, method);
        foreach (var (name, value) in _arguments.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            Append(sha, "\n" + name + "=" + (int)value.Source + ":");
            switch (value.Source)
            {
                case ArgumentSource.Json:
                    sha.AppendData(JsonMarshal.GetRawUtf8Value(value.Json));
                    break;
                case ArgumentSource.Text:
                    foreach (var text in value.Text)
                        Append(sha, text + "\0");
                    break;
                case ArgumentSource.Media:
                    Append(sha, $"{value.Media.Hash}:{value.Media.Length}:{value.Media.Problem}:{value.Media.DeclaredType}:{value.Media.DeclaredName}");
                    break;
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static void Append(IncrementalHash sha, string text) => sha.AppendData(Encoding.UTF8.GetBytes(text));

    public async ValueTask DisposeAsync()
    {
        foreach (var document in _documents)
            document.Dispose();
        _documents.Clear();
        if (_rented is not null)
            ArrayPool<byte>.Shared.Return(_rented);
        _rented = null;
        foreach (var upload in _uploads)
            await upload.DisposeAsync();
        _uploads.Clear();
    }
}
