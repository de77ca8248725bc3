using Microsoft.Build.Framework;
using MSBuildTask = Microsoft.Build.Utilities.Task;

namespace CausalEval.Build.ElfWeakVersion;

/// <summary>
/// Copies each native library in <see cref="Libraries"/> to its <c>ElfCopyPath</c> metadata
/// and, when the system's <see cref="NeededLibrary"/> (found as the loader would find it) does not
/// define <see cref="VersionName"/>, marks the copy's requirement of that version weak.
/// The source file (e.g. the NuGet cache copy) is never written.
/// </summary>
public sealed class MakeElfVersionNeedWeak : MSBuildTask
{
    /// <summary>Native libraries to copy; metadata <c>ElfCopyPath</c> says where each copy goes.</summary>
    [Required]
    public ITaskItem[] Libraries { get; set; } = [];

    /// <summary>The needed library (vn_file / DT_NEEDED name), e.g. <c>libstdc++.so.6</c>.</summary>
    [Required]
    public string NeededLibrary { get; set; } = "";

    /// <summary>The version to make weak, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
    [Required]
    public string VersionName { get; set; } = "";

    /// <summary>Optional: check this file instead of locating <see cref="NeededLibrary"/> on the system.</summary>
    public string? SystemLibraryPath { get; set; }

    /// <summary>The copies whose requirement this run made weak.</summary>
    [Output]
    public ITaskItem[] Weakened { get; private set; } = [];

    public override bool Execute()
    {
        var weakened = new List<ITaskItem>();
        var systemDefinesVersion = new Dictionary<ushort, bool>();
        foreach (ITaskItem library in Libraries)
        {
            string source = library.GetMetadata("FullPath");
            string destination = library.GetMetadata("ElfCopyPath");
            if (string.IsNullOrEmpty(destination))
            {
                Log.LogError($"{source}: no ElfCopyPath metadata.");
                continue;
            }

            try
            {
                ElfImage image = ElfImage.Load(source);
                if (!systemDefinesVersion.TryGetValue(image.Machine, out bool defined))
                {
                    defined = SystemDefinesVersion(image.Machine);
                    systemDefinesVersion[image.Machine] = defined;
                }

                // Work on a temporary copy and move it into place only when it is complete, so a
                // failure never leaves an up-to-date-looking but unpatched destination behind.
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                string temporary = destination + ".tmp";
                File.Copy(source, temporary, overwrite: true);
                try
                {
                    if (defined)
                    {
                        Log.LogMessage(MessageImportance.Normal,
                            $"{destination}: the system {NeededLibrary} defines {VersionName}; copied unchanged.");
                    }
                    else
                    {
                        WeakenOutcome outcome = ElfVersionPatcher.MakeVersionNeedWeak(temporary, NeededLibrary, VersionName);
                        Log.LogMessage(MessageImportance.High, outcome switch
                        {
                            WeakenOutcome.Weakened => $"{destination}: marked its need for {VersionName} of {NeededLibrary} weak (the system {NeededLibrary} lacks it).",
                            WeakenOutcome.AlreadyWeak => $"{destination}: its need for {VersionName} of {NeededLibrary} is already weak.",
                            _ => $"{destination}: does not need {VersionName} of {NeededLibrary}; copied unchanged.",
                        });
                        if (outcome == WeakenOutcome.Weakened)
                        {
                            weakened.Add(new Microsoft.Build.Utilities.TaskItem(destination));
                        }
                    }

                    // A fresh time stamp, so MSBuild's incremental copy to the output folder never
                    // mistakes this file for an unpatched copy with the package's time stamp and size.
                    File.SetLastWriteTimeUtc(temporary, DateTime.UtcNow);
                    File.Move(temporary, destination, overwrite: true);
                }
                finally
                {
                    File.Delete(temporary);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Log.LogError($"{source}: {e.Message}");
            }
        }

        Weakened = [.. weakened];
        return !Log.HasLoggedErrors;
    }

    private bool SystemDefinesVersion(ushort machine)
    {
        string? path = string.IsNullOrEmpty(SystemLibraryPath)
            ? SharedLibraryLocator.Find(NeededLibrary, machine)
            : SystemLibraryPath;
        if (path is null)
        {
            Log.LogMessage(MessageImportance.Normal, $"No system {NeededLibrary} found for ELF machine {machine}.");
            return false;
        }

        bool defined = ElfVersionPatcher.DefinesVersion(path, VersionName);
        Log.LogMessage(MessageImportance.Normal,
            $"System {NeededLibrary}: {path} {(defined ? "defines" : "does not define")} {VersionName}.");
        return defined;
    }
}
