import pytest

from ganzoo import Variant, registry
from ganzoo.registry import PluginError

THIRDPARTY_VARIANT = """
from ganzoo import Variant

class Tiny(Variant):
    '''A third-party variant.'''
    description = "third-party test variant"
"""


def test_builtins_come_in_through_entry_points_with_their_package():
    names = {kind: reg.names() for kind, reg in registry.REGISTRIES.items()}
    assert {"gan", "dcgan"} <= set(names["variants"])
    assert {"minimax", "nonsaturating"} <= set(names["divergences"])
    assert {"digits", "ring8", "grid25", "mnist"} <= set(names["datasets"])
    assert {"fidelity", "classes", "modes"} <= set(names["metrics"])
    entry = registry.variants.entry("dcgan")
    assert entry.error is None and entry.package.startswith("ganzoo ")
    assert entry.target == "ganzoo_plugins.variants.dcgan:DCGAN"


def test_third_party_package_plugs_in_like_a_builtin(install_dist):
    install_dist(
        "thirdparty-gans",
        {"thirdparty_tiny": THIRDPARTY_VARIANT},
        {"ganzoo.variants": {"tiny": "thirdparty_tiny:Tiny"}},
    )
    cls = registry.variants.get("tiny")
    assert issubclass(cls, Variant) and cls.__name__ == "Tiny"
    assert registry.variants.entry("tiny").package == "thirdparty-gans 1.2.3"
    assert "gan" in registry.variants.names()  # built-ins still there


def test_broken_plugin_is_reported_and_does_not_break_others(install_dist):
    install_dist(
        "thirdparty-broken",
        {"thirdparty_broken": "import does_not_exist_anywhere\n"},
        {"ganzoo.variants": {"broken": "thirdparty_broken:X"}},
    )
    entries = {e.name: e for e in registry.variants.entries()}
    assert "does_not_exist_anywhere" in entries["broken"].error
    assert "thirdparty-broken 1.2.3" in entries["broken"].error
    assert entries["gan"].error is None
    with pytest.raises(PluginError, match="broken"):
        registry.variants.get("broken")


def test_wrong_base_class_is_refused_at_load(install_dist):
    install_dist(
        "thirdparty-wrong",
        {"thirdparty_wrong": "class NotAVariant:\n    pass\n"},
        {"ganzoo.variants": {"wrong": "thirdparty_wrong:NotAVariant"}},
    )
    with pytest.raises(PluginError, match="not a subclass of ganzoo.variant.Variant"):
        registry.variants.get("wrong")


def test_name_clash_names_both_packages(install_dist):
    install_dist(
        "thirdparty-clash",
        {"thirdparty_clash": THIRDPARTY_VARIANT},
        {"ganzoo.variants": {"gan": "thirdparty_clash:Tiny"}},
    )
    with pytest.raises(PluginError) as err:
        registry.variants.get("gan")
    assert "name clash" in str(err.value) and "thirdparty-clash 1.2.3" in str(err.value) and "ganzoo" in str(err.value)


def test_unknown_name_lists_known_and_suggests_closest():
    with pytest.raises(PluginError) as err:
        registry.variants.get("dcgn")
    msg = str(err.value)
    assert "'dcgn'" in msg and "did you mean 'dcgan'" in msg and "gan" in msg


def test_in_process_registration_checks_like_entry_points(fresh_registries):
    class Mine(Variant):
        pass

    registry.variants.register("mine", Mine)
    assert registry.variants.get("mine") is Mine
    with pytest.raises(PluginError, match="already provided"):
        registry.variants.register("gan", Mine)
    with pytest.raises(PluginError, match="not a subclass"):
        registry.variants.register("other", int)
