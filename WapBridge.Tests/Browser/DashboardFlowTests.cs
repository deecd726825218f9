using System.Text.RegularExpressions;
using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The first operator's whole path through a real browser: sign up, make a key, use it, log out and back in.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardFlowTests
{
    private const string Email = "operator@example.com";
    private const string Password = "Correct-Horse-42";

    [Fact]
    public async Task First_user_registers_creates_an_api_key_that_works_and_logs_in_again()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();

        await using var browserPage = await BrowserSession.OpenAsync(app);
        var page = browserPage.Page;

        // Anonymous visitors land on the login page.
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/Account/Login", RegexOptions.IgnoreCase));

        // The server has no users yet, so sign-up is open; the first user becomes Admin.
        await page.Locator("#register-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/Account/Register", RegexOptions.IgnoreCase));
        // Enhanced navigation changes the URL before it swaps the page: wait for the register form itself.
        await Expect(page.Locator("[id='Input.Organisation']")).ToBeVisibleAsync();
        await page.Locator("[id='Input.Email']").FillAsync(Email);
        await page.Locator("[id='Input.Organisation']").FillAsync("Browser Test Ltd");
        await page.Locator("[id='Input.Password']").FillAsync(Password);
        await page.Locator("[id='Input.ConfirmPassword']").FillAsync(Password);
        await page.Locator("#register-submit").ClickAsync();

        await Expect(page.GetByTestId("customer-code")).ToHaveTextAsync("CUST-0001");
        await Expect(page.GetByTestId("customer-name")).ToHaveTextAsync("Browser Test Ltd");
        await Expect(page.GetByTestId("user-email")).ToHaveTextAsync(Email);
        await Expect(page.GetByTestId("nav-admin")).ToBeVisibleAsync();

        // Settings: generate a key. The button is enabled once the circuit is interactive.
        await DashboardAccount.NavigateAsync(page, "/settings");
        var generate = page.GetByTestId("generate-key");
        await Expect(generate).ToBeEnabledAsync();
        await page.Locator("[data-testid=key-label] input").FillAsync("browser test");
        // The first user is the Admin, who alone is offered an admin key; ticked, this key may call the admin API.
        await page.Locator("[data-testid=key-admin] input[type=checkbox]").CheckAsync();
        await generate.ClickAsync();

        await Expect(page.GetByTestId("shown-once")).ToBeVisibleAsync();
        var key = (await page.GetByTestId("api-key").InnerTextAsync()).Trim();
        var secret = (await page.GetByTestId("api-secret").InnerTextAsync()).Trim();
        Assert.Matches("^[0-9a-f]{15}$", key);
        Assert.Matches("^[0-9a-f]{40}$", secret);
        Assert.Equal($"Authorization: token {key}:{secret}", (await page.GetByTestId("api-header").InnerTextAsync()).Trim());
        var row = page.Locator($"[data-testid=key-row][data-key='{key}']");
        await Expect(row).ToContainTextAsync("browser test");
        await Expect(row.GetByTestId("key-status")).ToHaveTextAsync("active");
        await Expect(row.GetByTestId("key-admin-badge")).ToHaveTextAsync("admin key");

        // The Admin chose an admin key: it may call the admin API.
        using (var api = app.CreateApiClient($"token {key}:{secret}"))
        {
            var account = (await api.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
            Assert.Equal("CUST-0001", account.Message!["customer"]!.GetValue<string>());
            Assert.True(account.Message!["is_admin"]!.GetValue<bool>());
            (await api.CallAsync("wap_bridge.api.admin.list_customers")).EnsureOk();
        }

        // Log out, then the same credentials log in again.
        await page.GetByTestId("logout").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/Account/Login", RegexOptions.IgnoreCase));
        await page.GotoAsync("/settings");
        await Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?ReturnUrl=%2Fsettings", RegexOptions.IgnoreCase));

        await Expect(page.Locator("#login-submit")).ToBeVisibleAsync();
        await page.Locator("[id='Input.Email']").FillAsync(Email);
        await page.Locator("[id='Input.Password']").FillAsync(Password);
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/settings$"));
        await Expect(page.Locator($"[data-testid=key-row][data-key='{key}']")).ToBeVisibleAsync();
        // The secret is never shown again.
        await Expect(page.GetByTestId("api-secret")).ToHaveCountAsync(0);
    }
}
