package io.llmstream.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code --version}: the Implementation-Version of the jar this runs from, or "dev" when run from classes. */
public final class ManifestVersion implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = ManifestVersion.class.getPackage().getImplementationVersion();
        return new String[] {"llmstream " + (version == null ? "dev" : version)};
    }
}
