using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;

namespace WapBridge.Web.Api.Frappe;

/// <summary>How to read one method's arguments.</summary>
/// <param name="MediaArguments">Arguments that carry a file: streamed into <paramref name="Store"/>, never held in memory.</param>
/// <param name="KeepMediaBytes">The most of one file that is kept; beyond it bytes are only counted, for the refusal.</param>
/// <param name="ArgumentBudget">The most the other arguments of a media method may take, in bytes of JSON or text.</param>
/// <param name="BudgetSetting">The setting behind <paramref name="ArgumentBudget"/>, named in a 413.</param>
public sealed record FrappeReadOptions(IReadOnlyList<string> MediaArguments, IMediaStore? Store, long KeepMediaBytes, long ArgumentBudget, string BudgetSetting)
{
    /// <summary>A method without media arguments: its body limit bounds everything.</summary>
    public static readonly FrappeReadOptions Plain = new([], null, 0, long.MaxValue, "");

    internal bool IsMedia(string name) => MediaArguments.Any(m => string.Equals(m, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Frappe's argument rules (contract §1): a non-empty JSON body is the only source; otherwise the
/// query string merged with a form body, the form winning. A body labelled JSON that does not parse is
/// tried as a form before it is rejected, because ERPNext sends such bodies.
/// The body is read once: a JSON body into one pooled buffer parsed once, or, for a method that takes media, as a
/// stream whose media values go straight to the media store (<see cref="JsonArgumentSplitter"/>).
/// </summary>
public static partial class FrappeArguments
{
    private const int ChunkBytes = 64 * 1024;

    public static async Task<FrappeArgumentSet> ReadAsync(HttpRequest request, FrappeReadOptions options, CancellationToken ct)
    {
        var set = new FrappeArgumentSet();
        try
        {
            if (MultipartBoundary(request.ContentType) is { } boundary)
            {
                AddText(set, request.Query);
                await ReadMultipartAsync(request.Body, boundary, set, options, ct);
            }
            else if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(ct);
                AddText(set, request.Query);
                AddText(set, form);
            }
            else
            {
                await ReadBodyAsync(request, set, options, ct);
            }
            await StageMediaTextAsync(set, options, ct);
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    private static async Task ReadBodyAsync(HttpRequest request, FrappeArgumentSet set, FrappeReadOptions options, CancellationToken ct)
    {
        var body = request.Body;
        // A body of known length is read into one buffer of its size (its limit was checked before). A large body of a
        // media method is streamed instead, and its first buffer is only a window on the stream.
        var streamed = options.MediaArguments.Count > 0 && request.ContentLength is not (>= 0 and <= ChunkBytes);
        var initial = !streamed && request.ContentLength is > 0 and < int.MaxValue and var declared ? (int)declared + 1 : ChunkBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initial, 256));
        var filled = 0;
        try
        {
            // Enough of the body to see how it starts.
            int read;
            while (FirstSignificant(buffer.AsSpan(0, filled)) < 0 && filled < buffer.Length
                   && (read = await body.ReadAsync(buffer.AsMemory(filled), ct)) > 0)
                filled += read;

            var first = FirstSignificant(buffer.AsSpan(0, filled));
            if (streamed && first >= 0 && buffer[first] == (byte)'{')
            {
                await SplitJsonAsync(body, buffer, first, filled, set, options, ct);
                return;
            }

            while (true)
            {
                if (filled == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                read = await body.ReadAsync(buffer.AsMemory(filled), ct);
                if (read == 0)
                    break;
                filled += read;
            }
            var owned = buffer;
            buffer = null;
            set.Own(owned);
            ReadWholeBody(request, owned.AsMemory(0, filled), set);
        }
        finally
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A body read whole: JSON, a form, or a JSON-labelled form (ERPNext).</summary>
    private static void ReadWholeBody(HttpRequest request, ReadOnlyMemory<byte> bytes, FrappeArgumentSet set)
    {
        if (bytes.Span.StartsWith(Utf8Bom))
            bytes = bytes[Utf8Bom.Length..];
        else if (bytes.Span.StartsWith(Utf16LeBom) || bytes.Span.StartsWith(Utf16BeBom))
            bytes = Encoding.UTF8.GetBytes(Decode(bytes.Span));
        var first = FirstSignificant(bytes.Span);
        if (first < 0)
        {
            AddText(set, request.Query);
            return;
        }

        if (IsJsonContentType(request.ContentType) || bytes.Span[first] == (byte)'{')
        {
            JsonDocument? document = null;
            string? parseError = null;
            try
            {
                document = JsonDocument.Parse(bytes, DocumentOptions);
            }
            catch (JsonException e)
            {
                parseError = e.Message;
            }
            if (document is not null)
            {
                set.Own(document);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw NotAnObject();
                AddJson(set, document.RootElement);
                return;
            }
            if (TryParseForm(Decode(bytes.Span)) is { } mislabelled)
            {
                AddText(set, request.Query);
                AddText(set, mislabelled);
                return;
            }
            throw WapBridgeException.Invalid("body", "invalid_json", $"The request body is not valid JSON: {parseError}");
        }

        var form = TryParseForm(Decode(bytes.Span)) ?? throw WapBridgeException.Invalid("body", "unreadable_body",
            $"Cannot read arguments from a '{request.ContentType}' body; send JSON (application/json) or a form (application/x-www-form-urlencoded).");
        AddText(set, request.Query);
        AddText(set, form);
    }

    /// <summary>A JSON object whose media values stream into the media store; <paramref name="buffer"/> holds its first bytes.</summary>
    private static async Task SplitJsonAsync(Stream body, byte[] buffer, int start, int filled, FrappeArgumentSet set, FrappeReadOptions options,
        CancellationToken ct)
    {
        var store = options.Store ?? throw new InvalidOperationException("A media method needs the media store.");
        var splitter = new JsonArgumentSplitter(options.IsMedia, name =>
        {
            var upload = store.BeginUpload(options.KeepMediaBytes);
            upload.Field = name;
            set.Own(upload);
            return upload;
        }, options.ArgumentBudget, options.BudgetSetting);
        try
        {
            splitter.Feed(buffer.AsSpan(start, filled - start));
            await FlushAsync(splitter, ct);
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                splitter.Feed(buffer.AsSpan(0, read));
                await FlushAsync(splitter, ct);
            }
            var structure = splitter.Finish();
            var document = JsonDocument.Parse(structure, DocumentOptions);
            set.Own(document);
            var members = document.RootElement.EnumerateObject();
            foreach (var member in splitter.Members)
            {
                if (member is { } media)
                {
                    set.Set(media.Name, RawArgument.FromMedia(media.Upload));
                    continue;
                }
                members.MoveNext();
                if (NameOf(members.Current) is { } name)
                    set.Set(name, RawArgument.FromJson(members.Current.Value));
            }
        }
        catch (JsonException e)
        {
            // Positions would point into the rewritten object, not the body: leave them out.
            var message = e.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0];
            throw WapBridgeException.Invalid("body", "invalid_json", $"The request body is not valid JSON: {message}");
        }
    }

    private static async ValueTask FlushAsync(JsonArgumentSplitter splitter, CancellationToken ct)
    {
        foreach (var finished in splitter.Finished)
            await finished.CompleteAsync(ct);
        splitter.Finished.Clear();
        if (splitter.Active is { } active)
            await active.FlushAsync(ct);
    }

    /// <summary>
    /// multipart/form-data read part by part: a file part (or a media argument sent as a text part) streams into the
    /// media store; the other parts are text arguments, within the argument budget.
    /// </summary>
    private static async Task ReadMultipartAsync(Stream body, string boundary, FrappeArgumentSet set, FrappeReadOptions options, CancellationToken ct)
    {
        var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
        var fromForm = new HashSet<string>(StringComparer.Ordinal);
        var budget = options.ArgumentBudget;
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                continue;
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
            var isFile = !string.IsNullOrEmpty(fileName);
            var target = options.IsMedia(name) ? name : isFile && name == "file" && options.MediaArguments.Count > 0 ? options.MediaArguments[0] : null;
            if (target is not null)
            {
                var upload = options.Store!.BeginUpload(options.KeepMediaBytes);
                upload.Field = name;
                upload.DeclaredType = isFile ? section.ContentType : null;
                upload.DeclaredName = isFile ? fileName : null;
                set.Own(upload);
                if (isFile)
                    await CopyAsync(section.Body, upload, ct);
                else
                    await DecodeBase64Async(section.Body, upload, ct);
                set.Set(target, RawArgument.FromMedia(upload));
                continue;
            }
            if (isFile)
                continue;

            var (text, used) = await ReadTextAsync(section.Body, budget, options.BudgetSetting, ct);
            budget -= used;
            var values = fromForm.Add(name) || !set.TryGetExact(name, out var earlier) || earlier.Source != ArgumentSource.Text
                ? new StringValues(text)
                : StringValues.Concat(earlier.Text, text);
            set.Set(name, RawArgument.FromText(values));
        }
    }

    private static async Task CopyAsync(Stream from, MediaUpload upload, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer.AsMemory(0, ChunkBytes), ct)) > 0)
                await upload.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await upload.CompleteAsync(ct);
    }

    private static async Task DecodeBase64Async(Stream from, MediaUpload upload, CancellationToken ct)
    {
        var decoder = new Base64MediaDecoder(upload);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer.AsMemory(0, ChunkBytes), ct)) > 0)
            {
                decoder.Append(buffer.AsSpan(0, read));
                await decoder.FlushAsync(ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await decoder.CompleteAsync(ct);
    }

    private static async Task<(string Text, long Used)> ReadTextAsync(Stream from, long budget, string setting, CancellationToken ct)
    {
        var data = new ArrayBufferWriter<byte>(256);
        int read;
        while ((read = await from.ReadAsync(data.GetMemory(4096), ct)) > 0)
        {
            data.Advance(read);
            if (data.WrittenCount > budget)
                throw new BodyTooLargeException(budget, setting);
        }
        return (Decode(data.WrittenSpan), data.WrittenCount);
    }

    /// <summary>
    /// Media arguments that arrived as text (a form field, the query string, a small JSON body read whole) are decoded
    /// into the media store too.
    /// </summary>
    private static async Task StageMediaTextAsync(FrappeArgumentSet set, FrappeReadOptions options, CancellationToken ct)
    {
        foreach (var name in options.MediaArguments)
        {
            if (!set.TryGetExact(name, out var value))
                continue;
            string? text;
            if (value.Source == ArgumentSource.Text && value.Text.Count == 1)
                text = value.Text[0] ?? "";
            else if (value.Source == ArgumentSource.Json && value.Json.ValueKind == JsonValueKind.String)
                text = JsonText(value.Json);
            else
                continue;
            var upload = options.Store!.BeginUpload(options.KeepMediaBytes);
            upload.Field = name;
            set.Own(upload);
            if (text is null)
            {
                upload.Problem = Base64MediaDecoder.InvalidBase64;
                await upload.CompleteAsync(ct);
            }
            else
            {
                await Base64MediaDecoder.DecodeAsync(text, upload, ct);
            }
            set.Set(name, RawArgument.FromMedia(upload));
        }
    }

    /// <summary>A JSON string's text, or null when it is not valid text (then it is not base64 either).</summary>
    private static string? JsonText(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static void AddJson(FrappeArgumentSet set, JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (NameOf(property) is { } name)
                set.Set(name, RawArgument.FromJson(property.Value));
        }
    }

    /// <summary>A property's name, or null when it is not valid text (a lone surrogate): then it is no argument's name.</summary>
    private static string? NameOf(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static void AddText(FrappeArgumentSet set, IEnumerable<KeyValuePair<string, StringValues>> values)
    {
        foreach (var (key, value) in values)
            if (value.Count > 0)
                set.Set(key, RawArgument.FromText(value));
    }

    private static WapBridgeException NotAnObject() =>
        WapBridgeException.Invalid("body", "invalid_json", "The JSON body must be an object of named arguments, e.g. {\"to_number\": \"…\"}");

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true };

    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];
    private static ReadOnlySpan<byte> Utf16LeBom => [0xFF, 0xFE];
    private static ReadOnlySpan<byte> Utf16BeBom => [0xFE, 0xFF];

    /// <summary>Index of the first byte that is not whitespace or a UTF-8 byte-order mark, or -1.</summary>
    private static int FirstSignificant(ReadOnlySpan<byte> bytes)
    {
        var start = bytes.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
        var index = bytes[start..].IndexOfAnyExcept(Whitespace);
        return index < 0 ? -1 : start + index;
    }

    /// <summary>Text of a body or part; a UTF-16 byte-order mark is honoured, anything else is read as UTF-8.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(Utf16LeBom))
            return Encoding.Unicode.GetString(bytes[2..]);
        if (bytes.StartsWith(Utf16BeBom))
            return Encoding.BigEndianUnicode.GetString(bytes[2..]);
        return Encoding.UTF8.GetString(bytes.StartsWith(Utf8Bom) ? bytes[3..] : bytes);
    }

    private static string? MultipartBoundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return null;
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        return string.IsNullOrWhiteSpace(boundary)
            ? throw WapBridgeException.Invalid("body", "unreadable_body", "A multipart/form-data body needs a boundary in its Content-Type.")
            : boundary;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_\[\]\.]*$")]
    private static partial Regex ArgumentName();

    private static bool IsJsonContentType(string? contentType)
    {
        var mediaType = (contentType ?? "").Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A form body, when every key looks like an argument name; otherwise null.</summary>
    private static Dictionary<string, StringValues>? TryParseForm(string body)
    {
        var parsed = QueryHelpers.ParseQuery(body.Trim());
        return parsed.Count > 0 && parsed.Keys.All(k => ArgumentName().IsMatch(k)) ? parsed : null;
    }
}
