using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace CausalEval.Tests;

/// <summary>
/// Packs the library and the tool from this build (no rebuild) into a folder feed, once for all the tests here, and
/// restores from that feed and this machine's NuGet cache only (a nuget.config that clears every other source, with
/// its own packages folder, so the machine's cache never holds these test packages and no registry is asked). Source
/// mapping takes CausalEval packages from the feed only: a same-version copy packed earlier into the machine's cache
/// (by hand, or by an older build) can never stand in for this build's.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(6);

    public PackedFeed()
    {
        Repo = FindRepo();
        Version = typeof(CausalEvaluation).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        var configuration = typeof(PackedFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        Directory.CreateDirectory(Feed);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Packages}" /></config>
              <packageSources>
                <clear />
                <add key="causaleval" value="{Feed}" />
                <add key="machine-cache" value="{cache}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="causaleval"><package pattern="CausalEval*" /></packageSource>
                <packageSource key="machine-cache"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        // --no-build: the packages hold exactly what this test run built (the test project references both projects).
        foreach (var project in new[] { "CausalEval.Core", "CausalEval.Prompts", "CausalEval.Models", "CausalEval", "CausalEval.Cli" })
        {
            var (code, output) = Run(Repo, "dotnet", "pack", Path.Combine(Repo, "src", project), "-c", configuration, "--no-build", "-o", Feed, "-nologo", "-v", "q",
                "--disable-build-servers");
            Assert.True(code == 0, $"dotnet pack {project}:\n{output}");
        }
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"causaleval-packages-{Guid.NewGuid():N}");

    public string Repo { get; }

    public string Version { get; }

    public string Feed => Path.Combine(Root, "feed");

    public string Packages => Path.Combine(Root, "packages");

    public string Config => Path.Combine(Root, "nuget.config");

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>Runs a program in <paramref name="folder"/> with the feed's packages folder and no datasets or prompts of the repository in reach.</summary>
    public (int ExitCode, string Output) Run(string folder, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["NUGET_PACKAGES"] = Packages;
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(Root, "xdg");
        start.Environment.Remove("CAUSALEVAL_DATASETS");
        start.Environment.Remove("CAUSALEVAL_PROMPTS");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Slow))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} took over {Slow}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CausalEval.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("repository root not found");
    }
}

/// <summary>The packages as a user gets them: the tool from a folder feed, and a program against the library package.</summary>
public sealed class PackageTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    [Fact]
    public void The_tool_installs_from_a_folder_feed_and_runs_a_small_suite_with_builtin_and_torch_models()
    {
        var tools = Path.Combine(feed.Root, "tools");
        var install = feed.Run(feed.Root, "dotnet", "tool", "install", "--tool-path", tools, "--configfile", feed.Config,
            "CausalEval.Tool", "--version", feed.Version);
        Assert.True(install.ExitCode == 0, install.Output);
        var work = Directory.CreateDirectory(Path.Combine(feed.Root, "tool-work")).FullName;
        var causaleval = Path.Combine(tools, "causaleval");

        var run = feed.Run(work, causaleval, "run", "--task", "explore-exploit", "--task", "passive-exploit-observational",
            "--model", "builtin/expert", "--model", "builtin/random", "--model", "torch/default", "--episodes", "4", "--out", "suite", "--quiet");
        var report = feed.Run(work, causaleval, "report", "suite", "--out", "suite-report");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Matches(@"(?m)^\d+\s+builtin/expert\s+—\s+8\s", run.Output);
        Assert.Contains("torch/default", run.Output, StringComparison.Ordinal);
        Assert.Equal(24, File.ReadLines(Path.Combine(work, "suite", "trials.jsonl")).Count());
        Assert.True(report.ExitCode == 0, report.Output);
        Assert.True(File.Exists(Path.Combine(work, "suite-report", "leaderboard.md")));
    }

    [Fact]
    public void The_READMEs_library_program_builds_against_the_package_and_writes_its_run_folder()
    {
        var program = ReadmeProgram(File.ReadAllText(Path.Combine(feed.Repo, "README.md")));
        var consumer = Directory.CreateDirectory(Path.Combine(feed.Root, "consumer")).FullName;
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), program);
        File.WriteAllText(Path.Combine(consumer, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="CausalEval" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        // Outside the repository: no Directory.Build.props or central package versions of ours apply.
        File.Copy(feed.Config, Path.Combine(consumer, "nuget.config"));

        // Its own build, without the machine's shared build servers (other builds may be using or restarting them).
        var build = feed.Run(consumer, "dotnet", "build", "-nologo", "-v", "q", "--disable-build-servers", "-p:UseSharedCompilation=false");
        Assert.True(build.ExitCode == 0, build.Output);
        var (code, output) = feed.Run(consumer, "dotnet", Path.Combine(consumer, "bin", "Debug", "net10.0", "consumer.dll"));

        Assert.True(code == 0, output);
        Assert.Contains("Finished: results/lib-run", output, StringComparison.Ordinal);
        Assert.Contains("my-model | zero-shot | explore-exploit | 5 trials |", output, StringComparison.Ordinal);
        Assert.Contains("builtin/expert | - | explore-exploit | 5 trials | normalized 1.000", output, StringComparison.Ordinal);
        var run = Path.Combine(consumer, "results", "lib-run");
        Assert.Equal(10, File.ReadLines(Path.Combine(run, "trials.jsonl")).Count());
        Assert.Contains("\"model\":\"my-model\"", File.ReadAllText(Path.Combine(run, "trials.jsonl")), StringComparison.Ordinal);
    }

    /// <summary>The first C# block of the README's "Use it as a library" section.</summary>
    internal static string ReadmeProgram(string readme)
    {
        var section = readme[readme.IndexOf("## Use it as a library", StringComparison.Ordinal)..];
        var match = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "no C# block in the README's library section");
        return match.Groups[1].Value;
    }
}
