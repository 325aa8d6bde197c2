{# USES_VARIABLES { N, _clock_t, count, _source_start, _source_stop } #}
{# A spike (event) monitor's step as Brian2's Cython template has it, the recorded values
   written through plain pointers into the monitor's arrays, not typed memoryviews (which
   make Cython write 20,000 lines more C++). #}
{% extends 'common_group.pyx' %}

{% block maincode %}
    {% set _eventspace = get_array_name(eventspace_variable) %}
    cdef size_t _num_events = {{_eventspace}}[_num{{_eventspace}}-1]
    cdef size_t _first = 0
    cdef size_t _stop = _num_events
    cdef size_t _curlen, _j
    {% for varname, var in record_variables | dictsort %}
    cdef {{cpp_dtype(var.dtype)}} * _{{varname}}_data
    {% endfor %}
    # the source's events only (a subgroup's index range; events are in increasing order)
    while _first < _stop and {{_eventspace}}[_first] < _source_start:
        _first += 1
    while _stop > _first and {{_eventspace}}[_stop - 1] >= _source_stop:
        _stop -= 1
    if _stop > _first:
        _vectorisation_idx = 1
        {{ scalar_code|autoindent }}
        _curlen = {{N}}
        _owner.resize(_curlen + _stop - _first)
        {{N}} = _curlen + _stop - _first
        {% for varname, var in record_variables | dictsort %}
        _{{varname}}_data = <{{cpp_dtype(var.dtype)}} *> _numpy.PyArray_DATA(<_numpy.ndarray> {{get_array_name(var, access_data=False)}}.data)
        {% endfor %}
        for _j in range(_first, _stop):
            _idx = {{_eventspace}}[_j]
            _vectorisation_idx = _idx
            {{ vector_code|autoindent }}
            {% for varname in record_variables | sort %}
            _{{varname}}_data[_curlen + _j - _first] = _to_record_{{varname}}
            {% endfor %}
            {{count}}[_idx - _source_start] += 1
{% endblock %}
