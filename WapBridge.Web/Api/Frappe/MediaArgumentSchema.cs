using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using WapBridge.Core.Messaging;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// A media argument is a <see cref="MediaUpload"/> to handlers (the binder streams it into the media store), but base64
/// text to clients: this is how the OpenAPI document describes it.
/// </summary>
public static class MediaArgumentSchema
{
    public static Task Describe(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonTypeInfo.Type == typeof(MediaUpload))
        {
            schema.Type = JsonSchemaType.String | JsonSchemaType.Null;
            schema.Format = "byte";
            schema.Description = "The file's bytes in base64 (a data: prefix is tolerated); or, in multipart/form-data, a file part named file; or media_url instead.";
        }
        else if (context.JsonPropertyInfo?.Name == MediaFetcher.Field)
        {
            schema.Description = "Instead of media_data: an http(s) link the gateway fetches (public addresses only, at most 3 redirects, "
                + "30 s, the same size limits and type checks). Its type is mime_type if given, else the server's Content-Type; "
                + "its name filename, else Content-Disposition, else the URL's last segment. Any failure is a 417 naming media_url.";
            schema.Format = "uri";
        }
        return Task.CompletedTask;
    }

    /// <summary>The multipart/form-data form of a media method: its arguments as fields, and the file as a part named <c>file</c>.</summary>
    public static OpenApiSchema Multipart(IOpenApiSchema arguments) => new()
    {
        AllOf = [arguments],
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["file"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Format = "binary",
                Description = "The file, streamed into the media store; its Content-Type and file name stand in for mime_type and filename.",
            },
        },
    };

    /// <summary>Keeps the schema generator from walking the upload's members: it is described by <see cref="Describe"/> alone.</summary>
    public sealed class OpaqueConverter : JsonConverter<MediaUpload>
    {
        public override MediaUpload Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Media arguments are read by FrappeArguments, streamed into the media store.");

        public override void Write(Utf8JsonWriter writer, MediaUpload value, JsonSerializerOptions options) =>
            throw new NotSupportedException("Media uploads are not serialized.");
    }
}
