using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The Admin page's user management in a real browser, on real Identity stores and a SQLite file.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AdminUsersBrowserTests
{
    private const string AdminEmail = "root@example.com";
    private const string OwnerEmail = "clerk@example.com";

    [Fact]
    public async Task An_admin_edits_roles_disables_enables_unlocks_resets_and_deletes_a_user()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1280, Height = 900 });
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, AdminEmail, "Correct-Horse-42", "Admin Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        string ownerId;
        await using (var scope = app.Services.CreateAsyncScope())
            ownerId = (await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateOwnerAsync(OwnerEmail, "Old-Password-1", customer!.Id)).User!.Id;

        await page.GotoAsync("/admin");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var row = page.Locator($"[data-testid=user-row][data-email='{OwnerEmail}']");
        await Expect(row.GetByTestId("user-roles")).ToHaveTextAsync("Owner");

        // My own login: it cannot be disabled or deleted from here.
        await page.Locator($"[data-testid=user-row][data-email='{AdminEmail}'] [data-testid=manage-user]").ClickAsync();
        await Expect(page.GetByTestId("user-panel")).ToHaveAttributeAsync("data-email", AdminEmail);
        await Expect(page.GetByTestId("disable-user")).ToBeDisabledAsync();
        await Expect(page.GetByTestId("delete-user")).ToBeDisabledAsync();
        // Nor can the only Admin give up the role.
        await page.Locator("[data-testid=role-admin] input").UncheckAsync();
        await page.GetByTestId("save-roles").ClickAsync();
        await Expect(page.GetByTestId("user-change-error")).ToContainTextAsync("only enabled Admin");

        // Roles.
        await row.GetByTestId("manage-user").ClickAsync();
        var panel = page.GetByTestId("user-panel");
        await Expect(panel).ToHaveAttributeAsync("data-email", OwnerEmail);
        await page.Locator("[data-testid=role-admin] input").CheckAsync();
        await page.GetByTestId("save-roles").ClickAsync();
        await Expect(row.GetByTestId("user-roles")).ToHaveTextAsync("Admin, Owner");

        // Disable, then enable.
        await page.GetByTestId("disable-user").ClickAsync();
        await Expect(row.GetByTestId("user-access")).ToHaveTextAsync("disabled");
        Assert.True(await IsLockedOutAsync(app, ownerId));
        await page.GetByTestId("enable-user").ClickAsync();
        await Expect(row.GetByTestId("user-access")).ToHaveTextAsync("active");
        Assert.False(await IsLockedOutAsync(app, ownerId));

        // Locked out by wrong passwords: unlock.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
            await manager.SetLockoutEndDateAsync((await manager.FindByIdAsync(ownerId))!, DateTimeOffset.UtcNow.AddMinutes(15));
        }
        await page.ReloadAsync();
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(row.GetByTestId("user-access")).ToContainTextAsync("locked out until");
        await row.GetByTestId("manage-user").ClickAsync();
        await page.GetByTestId("unlock-user").ClickAsync();
        await Expect(row.GetByTestId("user-access")).ToHaveTextAsync("active");
        Assert.False(await IsLockedOutAsync(app, ownerId));

        // A reset link, shown once on the page, opens the reset page with the e-mail filled in.
        await page.GetByTestId("create-reset-link").ClickAsync();
        var link = (await page.GetByTestId("reset-link").InnerTextAsync()).Trim();
        Assert.StartsWith(app.ServerAddress.ToString().TrimEnd('/') + "/Account/ResetPassword?code=", link);
        var violations = await AccessibilityTests.AxeAsync(page, "admin user panel");
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        await page.GetByTestId("close-user").ClickAsync();
        await Expect(page.GetByTestId("reset-link")).ToHaveCountAsync(0);

        await page.GotoAsync(link);
        await Expect(page.Locator("[id='Input.Email']")).ToHaveValueAsync(OwnerEmail);
        await page.Locator("[id='Input.Password']").FillAsync("New-Password-77");
        await page.Locator("[id='Input.ConfirmPassword']").FillAsync("New-Password-77");
        await page.Locator("button[type=submit]").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/Account/ResetPasswordConfirmation", RegexOptions.IgnoreCase));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
            Assert.True(await manager.CheckPasswordAsync((await manager.FindByIdAsync(ownerId))!, "New-Password-77"));
        }

        // Delete, after a confirmation.
        await page.GotoAsync("/admin");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await row.GetByTestId("manage-user").ClickAsync();
        await page.GetByTestId("delete-user").ClickAsync();
        await page.GetByTestId("confirm-delete-user").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("user-row")).ToHaveCountAsync(1);
    }

    private static async Task<bool> IsLockedOutAsync(WapBridgeApp app, string userId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        return await manager.IsLockedOutAsync((await manager.FindByIdAsync(userId))!);
    }
}
