using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

public abstract class ApiKeyLifecycleTests(WapBridgeApp app)
{
    private async Task<(ApiKey Row, int CustomerId)> LoadKeyAsync(string key)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var row = await db.ApiKeys.AsNoTracking().SingleAsync(k => k.Key == key);
        return (row, row.CustomerId);
    }

    [Fact]
    public async Task Secret_is_stored_only_as_a_hash()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var (row, _) = await LoadKeyAsync(customer.ApiKey);

        Assert.Equal(ApiKeyCredentials.HashSecret(customer.ApiSecret), row.SecretHash);
        Assert.DoesNotContain(customer.ApiSecret, Convert.ToHexStringLower(row.SecretHash));
        Assert.Equal(customer.ApiSecret[^4..], row.SecretHint);
    }

    [Fact]
    public async Task Revoked_key_is_refused_at_once()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();

        var (row, customerId) = await LoadKeyAsync(customer.ApiKey);
        await app.Services.GetRequiredService<ApiKeyService>().RevokeAsync(customerId, row.Id);

        var answer = await client.CallAsync("wap_bridge.api.accounts.get_account");
        Assert.Equal(401, answer.Status);
        Assert.Equal("AuthenticationError", answer.ExcType);
    }

    [Fact]
    public async Task Revoking_another_customers_key_is_not_found()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateCustomerAsync();
        var other = await app.CreateCustomerAsync();
        var (row, _) = await LoadKeyAsync(owner.ApiKey);
        var (_, otherCustomerId) = await LoadKeyAsync(other.ApiKey);

        var error = await Assert.ThrowsAsync<Core.Common.WapBridgeException>(() =>
            app.Services.GetRequiredService<ApiKeyService>().RevokeAsync(otherCustomerId, row.Id));
        Assert.Equal(Core.Common.ErrorKind.NotFound, error.Kind);

        using var client = app.CreateApiClient(owner.TokenHeader);
        (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
    }

    [Fact]
    public async Task Last_used_is_recorded_once_not_on_every_request()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        Assert.Null((await LoadKeyAsync(customer.ApiKey)).Row.LastUsedAt);

        using var client = app.CreateApiClient(customer.TokenHeader);
        (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
        var firstUse = (await LoadKeyAsync(customer.ApiKey)).Row.LastUsedAt;
        Assert.NotNull(firstUse);

        (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
        Assert.Equal(firstUse, (await LoadKeyAsync(customer.ApiKey)).Row.LastUsedAt);
    }

    [Fact]
    public async Task Customer_codes_are_sequential()
    {
        app.SkipIfUnavailable();
        var first = await app.CreateCustomerAsync();
        var second = await app.CreateCustomerAsync();
        Assert.Equal(int.Parse(first.Code[5..]) + 1, int.Parse(second.Code[5..]));
    }
}

public sealed class SqliteApiKeyLifecycleTests(SqliteApp app) : ApiKeyLifecycleTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresApiKeyLifecycleTests(PostgresApp app) : ApiKeyLifecycleTests(app), IClassFixture<PostgresApp>;
