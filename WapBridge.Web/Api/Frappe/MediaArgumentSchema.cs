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
            schema.Description = "The file's bytes in base64 (a data: prefix is tolerated); or, in multipart/form-data, a file part named file.";
        }
        return Task.CompletedTask;
    }

    /// <summary>Keeps the schema generator from walking the upload's members: it is described by <see cref="Describe"/> alone.</summary>
    public sealed class OpaqueConverter : JsonConverter<MediaUpload>
    {
        public override MediaUpload Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Media arguments are read by FrappeArguments, streamed into the media store.");

        public override void Write(Utf8JsonWriter writer, MediaUpload value, JsonSerializerOptions options) =>
            throw new NotSupportedException("Media uploads are not serialized.");
    }
}
