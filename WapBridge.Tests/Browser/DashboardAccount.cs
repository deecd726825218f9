using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>Account steps browser tests share.</summary>
public static class DashboardAccount
{
    /// <summary>Signs up through the register page (open while the server has no users) and waits for the dashboard.</summary>
    public static async Task RegisterAsync(IPage page, string email, string password, string organisation)
    {
        await page.GotoAsync("/Account/Register");
        // Enhanced navigation may change the URL before it swaps the page: wait for the form itself.
        await Expect(page.Locator("[id='Input.Organisation']")).ToBeVisibleAsync();
        await page.Locator("[id='Input.Email']").FillAsync(email);
        await page.Locator("[id='Input.Organisation']").FillAsync(organisation);
        await page.Locator("[id='Input.Password']").FillAsync(password);
        await page.Locator("[id='Input.ConfirmPassword']").FillAsync(password);
        await page.Locator("#register-submit").ClickAsync();
        await Expect(page.GetByTestId("user-email")).ToHaveTextAsync(email);
        await WaitForInteractiveAsync(page);
    }

    /// <summary>
    /// Waits for the Blazor circuit: a navigation clicked while the page is still only prerendered can be undone when
    /// the circuit starts on the URL the page was loaded with.
    /// </summary>
    public static Task WaitForInteractiveAsync(IPage page) => Expect(page.GetByTestId("interactive")).ToBeAttachedAsync();

    /// <summary>Follows a link of the navigation menu (client-side routing, no page load).</summary>
    public static async Task NavigateAsync(IPage page, string href)
    {
        await WaitForInteractiveAsync(page);
        await page.Locator($".mud-nav-link[href='{href}']").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(href) + "$"));
    }
}
