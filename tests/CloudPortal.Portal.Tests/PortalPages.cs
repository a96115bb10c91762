using Microsoft.Playwright;
using Xunit;

namespace CloudPortal.Portal.Tests;

/// <summary>What a user does on the portal's pages, in the words of the pages.</summary>
public static class PortalPages
{
    /// <summary>Opens the portal, follows the redirect to Identity's sign-in form, signs in and lands on the overview.</summary>
    public static async Task SignInAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync("/");
        await page.FillAsync("#UserName", userName);
        await page.FillAsync("#Password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("#signed-in-user");
        Assert.Equal(userName, await page.GetAttributeAsync("#signed-in-user", "data-user-name"));
    }

    public static async Task SignOutAsync(IPage page)
    {
        await page.ClickAsync("#sign-out");
        // Identity's session ended too: the portal sends a new visitor to the sign-in form again.
        await page.WaitForSelectorAsync("#UserName");
    }

    public static async Task<string> FlashAsync(IPage page) => (await page.TextContentAsync("[role=status].alert"))?.Trim() ?? "";
}
