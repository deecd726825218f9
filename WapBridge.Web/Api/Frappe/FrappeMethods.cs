using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Idempotency;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Web.Api.Frappe;

public enum FrappeVerbs
{
    /// <summary>Read-only methods answer GET and POST.</summary>
    GetOrPost,

    /// <summary>Methods that change state: GET is 403 "Not permitted", as in Frappe.</summary>
    PostOnly,
}

/// <summary>What a method's body may hold, which sets its size limit (a 413 above it).</summary>
public enum FrappeBody
{
    /// <summary>Named arguments: <see cref="ApiOptions.MaxArgumentBodyBytes"/>.</summary>
    Arguments,

    /// <summary>Long lists (campaign recipients, simulator batches): <see cref="ApiOptions.MaxBulkBodyBytes"/>.</summary>
    Bulk,
}

public static class FrappeMethods
{
    public const string MethodPrefix = "/api/method/";
    public const string VersionedMethodPrefix = "/api/v1/method/";
    private const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>
    /// Maps <c>/api/method/{method}</c> and its <c>/api/v1/method/</c> alias with every contract §1 (docs/API.md)
    /// convention applied: argument binding, envelope, error body, verb rule, body limit and Idempotency-Key.
    /// </summary>
    public static RouteHandlerBuilder MapFrappeMethod<TArgs, TResult>(
        this IEndpointRouteBuilder app,
        string method,
        FrappeVerbs verbs,
        string authorizationPolicy,
        string summary,
        Func<TArgs, FrappeCall, Task<TResult>> handler,
        FrappeBody body = FrappeBody.Arguments,
        bool quietAboutUnknownArguments = false)
        where TArgs : notnull
    {
        var module = method.Split('.') is { Length: >= 4 } parts ? parts[^2] : "api";
        // Built now, so that an arguments type the binder cannot read stops the start-up, not a request.
        var shape = FrappeBinder.ShapeOf<TArgs>();
        RequestDelegate run = context => RunAsync(context, method, verbs, shape, body, handler, quietAboutUnknownArguments);

        app.MapMethods(VersionedMethodPrefix + method, [HttpMethods.Get, HttpMethods.Post], run)
            .ExcludeFromDescription()
            .RequireAuthorization(authorizationPolicy)
            .RequireRateLimiting(ApiRateLimiting.PolicyName);
        if (verbs == FrappeVerbs.PostOnly)
        {
            // Answered (403, as Frappe does) but not described: the document lists the verbs that work.
            app.MapMethods(MethodPrefix + method, [HttpMethods.Get], run)
                .ExcludeFromDescription()
                .RequireAuthorization(authorizationPolicy)
                .RequireRateLimiting(ApiRateLimiting.PolicyName);
        }

        // A Delegate (not a RequestDelegate) so that minimal-API metadata, and with it OpenAPI, applies.
        Delegate described = (Func<HttpContext, Task>)(context => run(context));
        string[] describedVerbs = verbs == FrappeVerbs.PostOnly ? [HttpMethods.Post] : [HttpMethods.Get, HttpMethods.Post];
        return app.MapMethods(MethodPrefix + method, describedVerbs, described)
            .WithName(method)
            .WithTags(module)
            .WithSummary(summary)
            .WithDescription(verbs == FrappeVerbs.PostOnly ? "POST only (a GET answers 403)." : "GET (arguments in the query string) or POST.")
            // Described by a transformer, not Accepts(): Accepts metadata would also filter requests by Content-Type,
            // and ERPNext sends GETs without one and bodies labelled with the wrong one.
            .AddOpenApiOperationTransformer(async (operation, context, ct) =>
            {
                var schema = await context.GetOrCreateSchemaAsync(typeof(TArgs), null, ct);
                var example = FrappeOpenApi.Example(shape);
                if (HttpMethods.IsGet(context.Description.HttpMethod ?? ""))
                {
                    operation.Parameters = FrappeOpenApi.QueryParameters(schema, shape, example);
                    return;
                }
                var content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = schema, Example = example },
                    ["application/x-www-form-urlencoded"] = new() { Schema = schema },
                };
                if (shape.MediaArguments.Count > 0)
                    content["multipart/form-data"] = new() { Schema = MediaArgumentSchema.Multipart(schema) };
                operation.RequestBody = new OpenApiRequestBody
                {
                    Description = "Arguments as a JSON object, or as form fields / query parameters.",
                    Required = shape.Required.Count > 0,
                    Content = content,
                };
            })
            .Produces<FrappeEnvelope<TResult>>(StatusCodes.Status200OK)
            .Produces<FrappeErrorBody>(StatusCodes.Status401Unauthorized)
            .Produces<FrappeErrorBody>(StatusCodes.Status403Forbidden)
            .Produces<FrappeErrorBody>(StatusCodes.Status417ExpectationFailed)
            .Produces<FrappeErrorBody>(StatusCodes.Status429TooManyRequests)
            .RequireAuthorization(authorizationPolicy)
            .RequireRateLimiting(ApiRateLimiting.PolicyName);
    }

    /// <summary>Answers every path under /api that no method matched with a JSON 404.</summary>
    public static void MapFrappeFallback(this IEndpointRouteBuilder app)
    {
        app.Map("/api/{**path}", (HttpContext context) =>
        {
            var path = context.Request.Path.Value ?? "";
            var method = path.StartsWith(VersionedMethodPrefix, StringComparison.Ordinal) ? path[VersionedMethodPrefix.Length..]
                : path.StartsWith(MethodPrefix, StringComparison.Ordinal) ? path[MethodPrefix.Length..]
                : path;
            return FrappeError.MethodNotFound(method).WriteAsync(context);
        }).ExcludeFromDescription();
    }

    private static async Task RunAsync<TArgs, TResult>(HttpContext context, string method, FrappeVerbs verbs, FrappeBinder.ArgumentsShape shape,
        FrappeBody bodyKind, Func<TArgs, FrappeCall, Task<TResult>> handler, bool quietAboutUnknownArguments)
    {
        if (verbs == FrappeVerbs.PostOnly && !HttpMethods.IsPost(context.Request.Method))
        {
            await FrappeError.NotPermitted($"Not permitted: {method} changes data and accepts POST only").WriteAsync(context);
            return;
        }

        var api = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
        var (limit, setting) = shape.MediaArguments.Count > 0 ? (api.MaxRequestBodyBytes, nameof(ApiOptions.MaxRequestBodyBytes))
            : bodyKind == FrappeBody.Bulk ? (api.MaxBulkBodyBytes, nameof(ApiOptions.MaxBulkBodyBytes))
            : (api.MaxArgumentBodyBytes, nameof(ApiOptions.MaxArgumentBodyBytes));
        var body = new LengthLimitedStream(context.Request.Body, limit, setting, context.RequestServices.GetRequiredService<LargeBodyGate>());
        var request = new RequestState(limit, setting, body);
        try
        {
            await AnswerAsync(context, method, shape, handler, api, request, quietAboutUnknownArguments);
        }
        finally
        {
            // Staged uploads the handler did not keep are deleted, and the large-body turn is given back.
            if (request.Arguments is not null)
                await request.Arguments.DisposeAsync();
            await body.DisposeAsync();
        }
    }

    /// <summary>What one request holds until it is answered.</summary>
    private sealed class RequestState(long limit, string setting, LengthLimitedStream body)
    {
        public long Limit { get; } = limit;
        public string Setting { get; } = setting;
        public LengthLimitedStream Body { get; } = body;
        public FrappeArgumentSet? Arguments { get; set; }
    }

    private static async Task AnswerAsync<TArgs, TResult>(HttpContext context, string method, FrappeBinder.ArgumentsShape shape,
        Func<TArgs, FrappeCall, Task<TResult>> handler, ApiOptions api, RequestState request, bool quietAboutUnknownArguments)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("WapBridge.Api");
        var store = context.RequestServices.GetRequiredService<IdempotencyStore>();
        long? idempotencyRecord = null;
        FrappeCall? call = null;
        int status;
        string responseBody;
        IReadOnlyList<string> notes = [];
        try
        {
            if (context.Request.ContentLength > request.Limit)
                throw new BodyTooLargeException(request.Limit, request.Setting);
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
                sizeFeature.MaxRequestBodySize = request.Limit;
            context.Request.Body = request.Body;

            FrappeArgumentSet arguments;
            try
            {
                arguments = request.Arguments = await FrappeArguments.ReadAsync(context.Request, ReadOptions(context, shape, api), context.RequestAborted);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw new BodyTooLargeException(request.Limit, request.Setting);
            }
            catch (Exception e) when (e is InvalidDataException or IOException && !context.RequestAborted.IsCancellationRequested)
            {
                // A multipart or form body that breaks off or breaks its own rules (a part without its closing boundary).
                throw WapBridgeException.Invalid("body", "unreadable_body", $"The request body cannot be read: {e.Message}");
            }

            if (!quietAboutUnknownArguments)
                notes = NoteUnknownArguments(arguments, shape, method, logger);
            call = new FrappeCall(context) { Arguments = arguments };
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Headers[IdempotencyHeader].ToString() is { Length: > 0 } key)
            {
                if (key.Length > 255)
                    throw WapBridgeException.Invalid(IdempotencyHeader, "too_long", "Idempotency-Key must be at most 255 characters");
                var scope = call.Caller is { } caller ? "key:" + caller.ApiKeyId : "admin";
                switch (await store.BeginAsync(scope, key, arguments.Hash(method), context.RequestAborted))
                {
                    case IdempotencyOutcome.Replay replay:
                        context.Response.Headers["Idempotent-Replayed"] = "true";
                        await WriteJsonAsync(context, replay.StatusCode, replay.Body);
                        return;
                    case IdempotencyOutcome.InProgress:
                        throw new WapBridgeException(ErrorKind.Conflict, "idempotency_in_progress",
                            "A request with this Idempotency-Key is still being processed; retry in a moment.", IdempotencyHeader);
                    case IdempotencyOutcome.Mismatch:
                        throw WapBridgeException.Invalid(IdempotencyHeader, "idempotency_key_reused",
                            "This Idempotency-Key was already used for a different request; use a new key for new arguments.");
                    case IdempotencyOutcome.Started started:
                        idempotencyRecord = started.RecordId;
                        break;
                }
            }

            var args = FrappeBinder.Bind<TArgs>(arguments);
            var result = await handler(args, call);
            status = StatusCodes.Status200OK;
            responseBody = JsonSerializer.Serialize(new FrappeEnvelope<TResult>(result, notes.Count == 0 ? null
                : UnknownArguments.ServerMessages(notes.Select(n => (n, FrappeError.UnknownArgumentIndicator)))), FrappeJson.Options);
        }
        catch (WapBridgeException e)
        {
            (status, responseBody) = Render(FrappeError.From(e), notes);
        }
        catch (BodyTooLargeException e)
        {
            (status, responseBody) = Render(FrappeError.BodyTooLarge(e.Limit, e.Setting));
        }
        catch (ServerBusyException e)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(e.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            (status, responseBody) = Render(FrappeError.Busy(api.MaxConcurrentLargeBodies));
        }
        catch (Exception e) when (DatabaseErrors.IsMissingReference(e))
        {
            logger.LogInformation("{Method} referred to a record deleted while it ran", method);
            (status, responseBody) = Render(FrappeError.From(new WapBridgeException(ErrorKind.NotFound, "deleted_meanwhile",
                "A record this request refers to (its instance or campaign) was deleted while the request ran; check the ids and retry.")));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            if (idempotencyRecord is { } abandoned)
                await store.ReleaseAsync(abandoned, CancellationToken.None);
            return;
        }
        catch (Exception e)
        {
            var errorId = Guid.NewGuid().ToString("N")[..12];
            logger.LogError(e, "Unhandled error {ErrorId} in {Method}", errorId, method);
            (status, responseBody) = Render(FrappeError.Internal(errorId));
        }

        if (idempotencyRecord is { } id)
        {
            if (status < 500)
                await store.CompleteAsync(id, status, ShownOnceSecrets.Mask(responseBody, call?.ShownOnceSecrets ?? []), CancellationToken.None);
            else
                await store.ReleaseAsync(id, CancellationToken.None);
        }
        await WriteJsonAsync(context, status, responseBody);
    }

    /// <summary>Media arguments stream into the store, each kept up to the largest media limit; the rest of the body is bounded by the bulk limit.</summary>
    private static FrappeReadOptions ReadOptions(HttpContext context, FrappeBinder.ArgumentsShape shape, ApiOptions api) =>
        shape.MediaArguments.Count == 0
            ? FrappeReadOptions.Plain
            : new FrappeReadOptions(shape.MediaArguments, context.RequestServices.GetRequiredService<IMediaStore>(),
                MediaValidator.Largest(context.RequestServices.GetRequiredService<IOptions<MessagingOptions>>().Value.MediaLimits),
                api.MaxBulkBodyBytes, nameof(ApiOptions.MaxBulkBodyBytes));

    private static (int Status, string Body) Render(FrappeError error, IReadOnlyList<string>? notes = null) =>
        (error.Status, JsonSerializer.Serialize(error.ToBody(notes), FrappeJson.Options));

    private static IReadOnlyList<string> NoteUnknownArguments(FrappeArgumentSet arguments, FrappeBinder.ArgumentsShape shape, string method, ILogger logger)
    {
        var unknown = UnknownArguments.Find(arguments.Names, shape.Names);
        foreach (var (name, suggestion) in unknown)
            logger.LogInformation("{Method} ignored the unknown argument {Argument} (closest known: {Suggestion})",
                method, name.Length <= 64 ? name : name[..64], suggestion);
        return unknown.Select(u => UnknownArguments.Note(u, shape.Names)).ToList();
    }

    private static Task WriteJsonAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }
}
