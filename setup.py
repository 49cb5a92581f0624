# Builds the Python module's extension with CMake (the same build as the CLI), for setuptools; see pyproject.toml.
# Environment: LESIONBENCH_PY_BUILD_DIR (default build/python-ext, kept between builds), CMAKE_ARGS (extra
# arguments, e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache), LESIONBENCH_JOBS (parallel jobs; default all cores).
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.environ.get("LESIONBENCH_PY_BUILD_DIR", os.path.join(ROOT, "build", "python-ext"))
        os.makedirs(build_dir, exist_ok=True)
        configure = ["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                     "-DLESIONBENCH_PYTHON=ON", "-DLESIONBENCH_BUILD_TESTS=OFF",
                     f"-DPython3_EXECUTABLE={sys.executable}"]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"] if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")) else []
        configure += os.environ.get("CMAKE_ARGS", "").split()
        subprocess.run(configure, check=True)
        jobs = os.environ.get("LESIONBENCH_JOBS", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", build_dir, "--target", "_lesionbench", "-j", jobs], check=True)
        built = [f for f in os.listdir(os.path.join(build_dir, "python")) if f.startswith("_lesionbench.")
                 and f.endswith(".so")]
        if len(built) != 1:
            raise RuntimeError(f"expected one _lesionbench*.so in {build_dir}/python, found {built}")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(build_dir, "python", built[0]), target)


# setuptools' own build folder goes beside CMake's, not loose in build/.
setup(ext_modules=[Extension("lesionbench._lesionbench", sources=[])], cmdclass={"build_ext": CMakeBuild},
      options={"build": {"build_base": os.path.join("build", "python-setuptools")}})
