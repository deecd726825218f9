using System.Text.Json;
using System.Text.Json.Serialization;
using WapBridge.Core.Common;

namespace WapBridge.Web.Api.Frappe;

/// <summary>The error body of contract §1: Frappe's keys, plus our structured <c>error</c>.</summary>
public sealed record FrappeErrorBody(
    [property: JsonPropertyName("exc_type")] string ExcType,
    [property: JsonPropertyName("exception")] string Exception,
    [property: JsonPropertyName("_server_messages")] string ServerMessages,
    [property: JsonPropertyName("error")] FrappeErrorDetail Error);

public sealed record FrappeErrorDetail(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("field"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field,
    [property: JsonPropertyName("error_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ErrorId = null);

/// <summary>An error ready to be written: status code, Frappe exception type and detail.</summary>
public sealed record FrappeError(int Status, string ExcType, string Code, string Message, string? Field = null, string? ErrorId = null)
{
    public static FrappeError From(WapBridgeException e)
    {
        var (status, excType) = e.Kind switch
        {
            ErrorKind.Validation => (StatusCodes.Status417ExpectationFailed, "ValidationError"),
            ErrorKind.NotFound => (StatusCodes.Status404NotFound, "DoesNotExistError"),
            ErrorKind.Conflict => (StatusCodes.Status409Conflict, "DuplicateEntryError"),
            ErrorKind.InstanceNotConnected => (StatusCodes.Status409Conflict, "InstanceNotConnectedError"),
            ErrorKind.EngineFeatureUnavailable => (StatusCodes.Status409Conflict, "EngineFeatureUnavailable"),
            ErrorKind.Permission => (StatusCodes.Status403Forbidden, "PermissionError"),
            ErrorKind.Authentication => (StatusCodes.Status401Unauthorized, "AuthenticationError"),
            ErrorKind.TooManyRequests => (StatusCodes.Status429TooManyRequests, "TooManyRequestsError"),
            _ => (StatusCodes.Status500InternalServerError, "Exception"),
        };
        return new FrappeError(status, excType, e.Code, e.Message, e.Field);
    }

    public static FrappeError NotPermitted(string message = "Not permitted") =>
        new(StatusCodes.Status403Forbidden, "PermissionError", "not_permitted", message);

    public static FrappeError MethodNotFound(string method) =>
        new(StatusCodes.Status404NotFound, "DoesNotExistError", "method_not_found",
            $"Method {method} does not exist. Methods live under /api/method/wap_bridge.api.<module>.<function>; see /openapi/v1.json.");

    public static FrappeError BodyTooLarge(long limit, string setting) =>
        new(StatusCodes.Status413PayloadTooLarge, "RequestEntityTooLarge", "body_too_large",
            $"The request body is larger than the {limit:N0}-byte limit of this method (WapBridge:Api:{setting}).");

    public static FrappeError Busy(int concurrent) =>
        new(StatusCodes.Status429TooManyRequests, "TooManyRequestsError", "server_busy",
            $"The server is already reading {concurrent} large request bodies (WapBridge:Api:MaxConcurrentLargeBodies); retry after the Retry-After delay.");

    public static FrappeError Internal(string errorId) =>
        new(StatusCodes.Status500InternalServerError, "Exception", "internal_error",
            $"An unexpected error occurred; quote error id {errorId} when reporting it.", null, errorId);

    /// <param name="notes">Warnings that go with the error, such as arguments the method ignored.</param>
    public FrappeErrorBody ToBody(IReadOnlyList<string>? notes = null)
    {
        var serverMessages = UnknownArguments.ServerMessages(
            new[] { (Message, "red") }.Concat((notes ?? []).Select(n => (n, UnknownArgumentIndicator))));
        return new FrappeErrorBody(ExcType, $"wap_bridge.exceptions.{ExcType}: {Message}", serverMessages,
            new FrappeErrorDetail(Code, Message, Field, ErrorId));
    }

    internal const string UnknownArgumentIndicator = "orange";

    public async Task WriteAsync(HttpContext context)
    {
        if (context.Response.HasStarted)
            return;
        context.Response.StatusCode = Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(JsonSerializer.Serialize(ToBody(), FrappeJson.Options), context.RequestAborted);
    }
}
