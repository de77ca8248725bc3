using System.Diagnostics;
using System.Text;

namespace CausalEval.Reporting.Tests.Support;

/// <summary>Debian's chromium, headless, with the flags that work on these machines (no sandbox, no GPU, no network services).</summary>
internal static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Loads the page, lets its scripts run, and returns the serialized DOM (<c>--dump-dom</c>).</summary>
    public static string DumpDom(string url) => Run("--dump-dom", url);

    public static void Screenshot(string url, string png, int width = 1400, int height = 1600)
        => Run($"--screenshot={png}", $"--window-size={width},{height}", url);

    private static string Run(params string[] args)
    {
        Assert.True(File.Exists(Path), $"{Path} is missing: the browser test needs Debian's chromium (run the tests with build/test, which installs it)");
        var profile = Directory.CreateTempSubdirectory("causaleval-chromium-");
        try
        {
            var start = new ProcessStartInfo(Path)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            foreach (var flag in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={profile.FullName}",
            }.Concat(args))
            {
                start.ArgumentList.Add(flag);
            }
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("chromium did not finish within 90 s");
            }
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {stderr.Result}");
            return stdout.Result;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
