using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics;

namespace CausalEval.Build.ElfWeakVersion;

/// <summary>
/// Finds the shared library the dynamic loader would use for a soname (e.g. libstdc++.so.6) for a
/// given ELF machine: first from the loader's cache as listed by <c>ldconfig -p</c>, then from the
/// usual library directories. LD_LIBRARY_PATH is not consulted.
/// </summary>
internal static class SharedLibraryLocator
{
    // ldconfig lives in /sbin on Debian and is often not on a normal user's PATH.
    private static readonly string[] LdconfigCandidates = ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"];

    private static readonly string[] FallbackDirectories =
    [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib64", "/usr/lib64", "/lib", "/usr/lib",
    ];

    /// <summary>The first candidate for <paramref name="soname"/> that is an ELF64 file for <paramref name="machine"/>, or null.</summary>
    internal static string? Find(string soname, ushort machine)
    {
        IEnumerable<string> candidates = ParseLdconfigOutput(RunLdconfig() ?? "", soname)
            .Concat(FallbackDirectories.Select(d => Path.Combine(d, soname)));
        foreach (string candidate in candidates.Distinct(StringComparer.Ordinal))
        {
            if (IsElfFor(candidate, machine))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Paths for <paramref name="soname"/> in <c>ldconfig -p</c> output, whose entries look like
    /// <c>"\tlibstdc++.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libstdc++.so.6"</c>.
    /// </summary>
    internal static IEnumerable<string> ParseLdconfigOutput(string output, string soname)
    {
        foreach (string line in output.Split('\n'))
        {
            string trimmed = line.Trim();
            int arrow = trimmed.IndexOf(" => ", StringComparison.Ordinal);
            if (arrow > 0 && trimmed.StartsWith(soname + " (", StringComparison.Ordinal))
            {
                yield return trimmed[(arrow + 4)..].Trim();
            }
        }
    }

    private static bool IsElfFor(string path, ushort machine)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            Span<byte> header = stackalloc byte[64];
            using FileStream stream = File.OpenRead(path);
            stream.ReadExactly(header);
            return ElfImage.LooksLikeElf64LittleEndian(header)
                && BinaryPrimitives.ReadUInt16LittleEndian(header[0x12..]) == machine;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string? RunLdconfig()
    {
        foreach (string ldconfig in LdconfigCandidates)
        {
            try
            {
                var start = new ProcessStartInfo(ldconfig, "-p")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using Process? process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }

                Task<string> stdout = process.StandardOutput.ReadToEndAsync();
                _ = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(10_000))
                {
                    process.Kill();
                    continue;
                }

                if (process.ExitCode == 0)
                {
                    return stdout.GetAwaiter().GetResult();
                }
            }
            catch (Exception e) when (e is Win32Exception or InvalidOperationException)
            {
                // Not there or not runnable: try the next one.
            }
        }

        return null;
    }
}
