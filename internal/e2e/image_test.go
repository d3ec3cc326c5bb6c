// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// imageConfig is what the image says about how it runs.
type imageConfig struct {
	Entrypoint []string
	Cmd        []string
	User       string
	Env        []string
	Labels     map[string]string
}

// containerImage is the image `make image` builds, unpacked: containers
// cannot run in this sandbox (crun and runc fail at setrlimit), so its
// root filesystem is exported and its entrypoint run from there with
// chroot, as the image's user, with /proc and /dev mounted as a runtime
// would.
type containerImage struct {
	// archive is the OCI archive of every platform's image.
	archive string
	rootfs  string
	config  imageConfig
	size    int64
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	var stderr []byte
	if exit, ok := err.(*exec.ExitError); ok {
		stderr = exit.Stderr
	}
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), stderr)
	return strings.TrimSpace(string(out))
}

func buildImage(t *testing.T) *containerImage {
	t.Helper()
	require.Zero(t, os.Getuid(), "unpacking the image keeps its files' owners, and mounting /proc in it, need root")
	engine := run(t, "scripts/container-engine.sh")
	archive := filepath.Join(t.TempDir(), "image.oci.tar")
	printed := strings.Split(run(t, "env", "IMAGE=otelcol-runcontext-e2e", "OCI_ARCHIVE="+archive, "scripts/image.sh"), "\n")
	require.Len(t, printed, 2, "the tag, then the archive")
	tag := printed[0]
	require.Equal(t, archive, printed[1])
	t.Cleanup(func() {
		_ = exec.Command(engine, "rmi", "-f", tag, tag+"-linux-amd64", tag+"-linux-arm64").Run()
	})

	img := &containerImage{archive: archive, rootfs: filepath.Join(t.TempDir(), "rootfs")}
	require.NoError(t, json.Unmarshal([]byte(run(t, engine, "image", "inspect", "--format", "{{json .Config}}", tag)), &img.config))
	_, err := fmt.Sscan(run(t, engine, "image", "inspect", "--format", "{{.Size}}", tag), &img.size)
	require.NoError(t, err)

	id := run(t, engine, "create", tag)
	defer func() { _ = exec.Command(engine, "rm", id).Run() }()
	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	run(t, engine, "export", "-o", rootfs, id)
	require.NoError(t, os.MkdirAll(img.rootfs, 0o755))
	run(t, "tar", "-xf", rootfs, "-C", img.rootfs)
	// What every container runtime provides: /proc, and the devices of
	// /dev a process opens (a step's stdin is /dev/null). Device nodes of
	// their own, not the host's /dev mounted: removing the folder
	// afterwards removes only them.
	proc := filepath.Join(img.rootfs, "proc")
	require.NoError(t, os.MkdirAll(proc, 0o555))
	require.NoError(t, syscall.Mount("proc", proc, "proc", 0, ""))
	t.Cleanup(func() { _ = syscall.Unmount(proc, syscall.MNT_DETACH) })
	dev := filepath.Join(img.rootfs, "dev")
	require.NoError(t, os.MkdirAll(dev, 0o755))
	for name, minor := range map[string]int{"null": 3, "zero": 5, "random": 8, "urandom": 9} {
		node := filepath.Join(dev, name)
		require.NoError(t, syscall.Mknod(node, syscall.S_IFCHR|0o666, 1<<8|minor)) // major 1: memory devices
		require.NoError(t, os.Chmod(node, 0o666))
	}
	return img
}

// command runs args inside the image as its user, with the image's
// environment and env on top.
func (img *containerImage) command(args []string, env ...string) *exec.Cmd {
	cmd := exec.Command("/usr/sbin/chroot", append([]string{"--userspec=" + img.config.User, img.rootfs}, args...)...)
	cmd.Env = append(append([]string{}, img.config.Env...), env...)
	return cmd
}

// staticStep is the example step built without cgo, to run inside the
// image, which has no C library.
func staticStep(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "pipelinestep"), ".")
	cmd.Dir = filepath.Join(repoRoot, "examples", "pipelinestep")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// The image runs as built: its entrypoint and default command, as its
// non-root user, take a step's OTLP and deliver it; runcontext-launch in
// it wraps a step. Its labels, user and volume are checked too.
func TestImage(t *testing.T) {
	img := buildImage(t)
	t.Logf("image size: %d MiB", img.size>>20)
	assert.Equal(t, "10001:10001", img.config.User, "a non-root user")
	for _, label := range []string{"org.opencontainers.image.version", "org.opencontainers.image.source", "org.opencontainers.image.licenses", "org.opencontainers.image.revision"} {
		assert.NotEmpty(t, img.config.Labels[label], label)
	}
	info, err := os.Stat(filepath.Join(img.rootfs, "var", "lib", "otelcol-runcontext"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700)|os.ModeDir, info.Mode(), "the spool's folder")
	assert.Equal(t, uint32(10001), info.Sys().(*syscall.Stat_t).Uid)

	// Every platform the image is built for is in its OCI archive's
	// index, with a config naming that platform and binaries built for
	// it: an arm64 laptop's image runs on amd64 compute, and the other
	// way round.
	t.Run("platforms", func(t *testing.T) {
		machines := ociImages(t, img.archive, "usr/local/bin/otelcol-runcontext")
		assert.Equal(t, map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}, machines)
	})

	t.Run("entrypoint", func(t *testing.T) {
		ingest := ingestiontest.New(t)
		c := &collector{grpcAddr: freeAddr(t), httpAddr: freeAddr(t), scheme: "http", output: &syncBuffer{}, done: make(chan error, 1)}
		c.cmd = img.command(append(img.config.Entrypoint, img.config.Cmd...),
			"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
			"RUNCONTEXT_OTLP_GRPC_ENDPOINT="+c.grpcAddr,
			"RUNCONTEXT_OTLP_HTTP_ENDPOINT="+c.httpAddr,
			"RUNCONTEXT_HEALTH_ENDPOINT="+freeAddr(t),
			"RUNCONTEXT_METRICS_PORT="+portOf(t, freeAddr(t)))
		c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
		start := time.Now()
		require.NoError(t, c.cmd.Start())
		go func() { c.done <- c.cmd.Wait() }()
		t.Cleanup(func() {
			_ = c.cmd.Process.Kill()
			if t.Failed() {
				t.Logf("collector output:\n%s", lastLines(c.output.String(), 40))
			}
		})
		c.waitForOutput(t, 30*time.Second, "Everything is ready")
		t.Logf("start time, to ready: %s", time.Since(start).Round(time.Millisecond))
		time.Sleep(100 * time.Millisecond) // the SIGTERM handler follows the ready line

		runStep(t, c, "http/protobuf", trainingRun)
		c.stop(t)
		assertStepArrived(t, logEnvelopes(ingest.Envelopes(t)), trainingRun)
		spool, err := os.Stat(filepath.Join(img.rootfs, "var", "lib", "otelcol-runcontext", "spool"))
		require.NoError(t, err, "the spool is in the volume")
		assert.Equal(t, uint32(10001), spool.Sys().(*syscall.Stat_t).Uid)
	})

	t.Run("runcontext-launch", func(t *testing.T) {
		ingest := ingestiontest.New(t)
		staticStep(t, filepath.Join(img.rootfs, "tmp"))
		cmd := img.command([]string{"/usr/local/bin/runcontext-launch", "--", "/tmp/pipelinestep"},
			"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
			"OTEL_SERVICE_NAME=pipelinestep",
			"OTEL_RESOURCE_ATTRIBUTES="+trainingRun.resourceAttributes())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assertStepArrived(t, logEnvelopes(ingest.Envelopes(t)), trainingRun)
	})
}

// ociImages reads an OCI archive holding one image index, and returns,
// for each platform the index names, the ELF machine of the file at path
// in that image, after checking that the image's config names the same
// platform.
func ociImages(t *testing.T, archive, path string) map[string]elf.Machine {
	t.Helper()
	f, err := os.Open(archive)
	require.NoError(t, err)
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[strings.TrimPrefix(h.Name, "./")] = data
	}
	type descriptor struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Platform  *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
	}
	blob := func(d descriptor, v any) []byte {
		data, ok := files["blobs/"+strings.Replace(d.Digest, ":", "/", 1)]
		require.True(t, ok, "blob %s", d.Digest)
		if v != nil {
			require.NoError(t, json.Unmarshal(data, v))
		}
		return data
	}
	var layout struct{ Manifests []descriptor }
	require.NoError(t, json.Unmarshal(files["index.json"], &layout))
	require.Len(t, layout.Manifests, 1)
	var index struct{ Manifests []descriptor }
	blob(layout.Manifests[0], &index)

	machines := map[string]elf.Machine{}
	for _, m := range index.Manifests {
		require.NotNil(t, m.Platform, m.Digest)
		platform := m.Platform.OS + "/" + m.Platform.Architecture
		var manifest struct {
			Config descriptor
			Layers []descriptor
		}
		blob(m, &manifest)
		var config struct{ OS, Architecture string }
		blob(manifest.Config, &config)
		assert.Equal(t, platform, config.OS+"/"+config.Architecture, "the config of %s", platform)
		for _, layer := range manifest.Layers {
			var r io.Reader = bytes.NewReader(blob(layer, nil))
			if strings.HasSuffix(layer.MediaType, "gzip") {
				zr, err := gzip.NewReader(r)
				require.NoError(t, err)
				r = zr
			}
			lr := tar.NewReader(r)
			for {
				h, err := lr.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				if strings.TrimPrefix(h.Name, "./") != path {
					continue
				}
				data, err := io.ReadAll(lr)
				require.NoError(t, err)
				exe, err := elf.NewFile(bytes.NewReader(data))
				require.NoError(t, err, "%s in %s", path, platform)
				machines[platform] = exe.Machine
			}
		}
	}
	return machines
}
