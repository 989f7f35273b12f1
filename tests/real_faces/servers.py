"""Real Faces servers for the tests: the application of ``app/`` built by Maven, deployed on
Mojarra 4.1 (Payara Micro 7) or MyFaces 4.0 (Tomcat with MyFaces and OpenWebBeans in the war).

Maven builds the wars and copies the servers from Maven Central into ``app/target/servers``
(their versions are pinned in ``app/pom.xml``; ``~/.m2`` caches them between runs). Java and
Maven are the machine's (Payara Micro 7 takes the first JDK of 21 or later it finds: JAVA_HOME,
``java`` on PATH, then ``/usr/lib/jvm``); nothing else is installed for these tests.
"""

import glob
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pypush_build.jar import write_jar
from tests.support import free_port

APP = Path(__file__).resolve().parent / "app"
TARGET = APP / "target"
CONTEXT = "/app"
START_TIMEOUT = 300.0
"""Payara Micro takes about a minute to start on two busy cores (more beside other tests),
Tomcat some seconds."""
BUILD_TIMEOUT = 900.0
"""A first build downloads the servers and libraries (about 120 MB) from Maven Central."""
STOP_TIMEOUT = 30.0
PAYARA_JAVA = 21
"""Payara Micro 7 (Jakarta EE 11) needs Java 21 or later."""


class ServerError(RuntimeError):
    """A build or server that did not come up; the message carries its output."""


@dataclass
class FacesServer:
    """A running server with the application at :data:`CONTEXT`."""

    name: str
    base_url: str
    process: subprocess.Popen
    log_path: Path

    def url(self, page: str) -> str:
        return "%s%s/%s" % (self.base_url, CONTEXT, page)

    def stop(self) -> None:
        """Stop the server (SIGTERM: both run their shutdown hooks), killing it if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def build(work: Path) -> dict[str, Path]:
    """pypush's resource jar, then both wars with it in ``WEB-INF/lib`` (one ``mvn`` run each);
    returns the wars by implementation."""
    maven = shutil.which("mvn")
    if maven is None:
        raise ServerError("no `mvn` on PATH: the real Faces tests build their application")
    jar_dir = work / "jar"
    jar_dir.mkdir()
    write_jar(jar_dir / "pypush.jar")
    for profile in ([], ["-Pmyfaces"]):
        command = [maven, "-q", "-B", "package", "-Dpypush.jar.dir=%s" % jar_dir, *profile]
        done = subprocess.run(
            command, cwd=APP, capture_output=True, text=True, timeout=BUILD_TIMEOUT
        )
        if done.returncode:
            raise ServerError(
                "Maven could not build the Faces application (%s, in %s): does it resolve from "
                "Maven Central?\n%s" % (" ".join(command), APP, (done.stdout + done.stderr)[-4000:])
            )
    return {"mojarra": TARGET / "app.war", "myfaces": TARGET / "app-myfaces.war"}


def java_at_least(major: int) -> str:
    """The first ``java`` of version ``major`` or later: JAVA_HOME's, PATH's, /usr/lib/jvm's."""
    candidates = [os.path.join(os.environ.get("JAVA_HOME", "/nonexistent"), "bin", "java")]
    candidates += [shutil.which("java") or "", *sorted(glob.glob("/usr/lib/jvm/*/bin/java"))]
    seen = []
    for java in candidates:
        if not java or not os.access(java, os.X_OK) or java in seen:
            continue
        seen.append(java)
        version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        found = re.search(r'version "(\d+)', version)
        if found and int(found.group(1)) >= major:
            return java
    raise ServerError(
        "Payara Micro 7 needs Java %d or later; none among %s" % (major, seen or "(no java)")
    )


def start_payara(war: Path, work: Path) -> FacesServer:
    """Mojarra: Payara Micro with the war deployed at :data:`CONTEXT`, clustering off."""
    folder = work / "payara"
    folder.mkdir()
    deployed = folder / "app.war"  # the context root is the war's name
    shutil.copy(war, deployed)
    port = free_port()
    command = [
        java_at_least(PAYARA_JAVA),
        "-Djava.io.tmpdir=%s" % folder,
        "-jar",
        str(TARGET / "servers" / "payara-micro.jar"),
        "--deploy",
        str(deployed),
        "--port",
        str(port),
        "--nocluster",
        "--nohazelcast",
        "--disablephonehome",
        "--rootdir",
        str(folder / "root"),
    ]
    return _start("mojarra (Payara Micro)", command, folder, port)


TOMCAT_SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="%d" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
"""


def start_tomcat(war: Path, work: Path) -> FacesServer:
    """MyFaces: Tomcat (from Maven Central's distribution) with the MyFaces war as ``app``."""
    folder = work / "tomcat"
    with tarfile.open(TARGET / "servers" / "tomcat.tar.gz") as archive:
        archive.extractall(work, filter="data")
    (home,) = [path for path in work.iterdir() if path.name.startswith("apache-tomcat-")]
    home.rename(folder)
    webapps = folder / "webapps"
    shutil.rmtree(webapps)  # the distribution's own applications: only ours
    webapps.mkdir()
    shutil.copy(war, webapps / "app.war")
    port = free_port()
    (folder / "conf" / "server.xml").write_text(TOMCAT_SERVER_XML % port)
    command = [
        "java",
        "-Dcatalina.home=%s" % folder,
        "-Dcatalina.base=%s" % folder,
        "-Djava.io.tmpdir=%s" % (folder / "temp"),
        # What Tomcat's catalina.sh opens, for its leak detection on undeploy.
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED",
        "-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager",
        "-Djava.util.logging.config.file=%s" % (folder / "conf" / "logging.properties"),
        "-cp",
        "%s:%s" % (folder / "bin" / "bootstrap.jar", folder / "bin" / "tomcat-juli.jar"),
        "org.apache.catalina.startup.Bootstrap",
        "start",
    ]
    return _start("myfaces (Tomcat)", command, folder, port)


def _start(name: str, command: list[str], folder: Path, port: int) -> FacesServer:
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = FacesServer(name, "http://127.0.0.1:%d" % port, process, log_path)
    try:
        _wait_answering(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_answering(server: FacesServer) -> None:
    """Until the application's page answers 200 (a server answers 404 while it deploys)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise ServerError(
                "%s exited with %s before the application answered:\n%s"
                % (server.name, server.process.returncode, tail(server.log_path))
            )
        try:
            with urllib.request.urlopen(server.url("push.xhtml"), timeout=10) as answer:
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as error:
            if error.code >= 500:  # deployed, and failing: waiting mends nothing
                raise ServerError(
                    "%s answered %s %s:\n%s"
                    % (server.name, error.code, server.url("push.xhtml"), tail(server.log_path))
                ) from None
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ServerError(
                "%s did not answer %s within %ds:\n%s"
                % (server.name, server.url("push.xhtml"), START_TIMEOUT, tail(server.log_path))
            )
        time.sleep(0.5)


def tail(path: Path, size: int = 6000) -> str:
    """The end of a server's log, for an error message."""
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError as error:
        return "(no log: %s)" % error
